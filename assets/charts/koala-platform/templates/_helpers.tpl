{{/* Labels on every object of this chart. */}}
{{- define "koala.labels" -}}
app.kubernetes.io/part-of: koala
koala.dev/section: {{ .section }}
{{- with .root.Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
