{{- define "standin.env" -}}
- name: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
  valueFrom: {secretKeyRef: {name: {{ .Values.data.metadataSecretName }}, key: connection}}
- name: AIRFLOW__CORE__FERNET_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.fernetKeySecretName }}, key: fernet-key}}
{{- range .Values.secret }}
- name: {{ .envName }}
  valueFrom: {secretKeyRef: {name: {{ .secretName }}, key: {{ .secretKey }}}}
{{- end }}
{{- with .Values.env }}
{{ toYaml . }}
{{- end }}
{{- end -}}
