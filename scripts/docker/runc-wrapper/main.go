// runc-wrapper is the OCI runtime of koala's real-kind Docker daemon (test bed only).
//
// Docker 20.10 gives a --privileged container every capability it knows of. On machines whose
// capability bounding set lacks some of them (CAP_SYS_RESOURCE here), runc then fails with
// "unable to apply caps: operation not permitted", so no kind node can start. This wrapper
// removes from the container's process spec every capability outside its own bounding set,
// then execs the real runc with the same arguments:
//   - `runc create` / `runc run`: <bundle>/config.json (--bundle, or the working directory);
//   - `runc exec --process <file>`: the process JSON (kind runs `docker exec --privileged`).
// A capability nobody on the machine holds could never be granted anyway, so nothing is lost.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Capability names by number, as in linux/capability.h (0 … 40).
var capNames = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE"}

// realRunc is the runtime this wraps; KOALA_REAL_RUNC overrides it (dockerd passes its env on).
func realRunc() string {
	if p := os.Getenv("KOALA_REAL_RUNC"); p != "" {
		return p
	}
	return "/usr/sbin/runc"
}

// held reads CapBnd from /proc/self/status; nil if it cannot be read (then nothing is changed).
func held() map[string]bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return nil
			}
			set := map[string]bool{}
			for i, n := range capNames {
				if mask&(1<<uint(i)) != 0 {
					set[n] = true
				}
			}
			return set
		}
	}
	return nil
}

// filter rewrites the capabilities of a process spec in place; isBundle means an OCI
// config.json (capabilities under .process), otherwise a `runc exec --process` file.
func filter(path string, isBundle bool, allowed map[string]bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	proc := doc
	if isBundle {
		proc, _ = doc["process"].(map[string]any)
	}
	caps, _ := proc["capabilities"].(map[string]any)
	if caps == nil {
		return nil
	}
	changed := false
	for _, set := range []string{"bounding", "effective", "permitted", "inheritable", "ambient"} {
		list, _ := caps[set].([]any)
		if list == nil {
			continue
		}
		kept := make([]any, 0, len(list))
		for _, c := range list {
			if name, _ := c.(string); allowed[name] {
				kept = append(kept, c)
			} else {
				changed = true
			}
		}
		caps[set] = kept
	}
	if !changed {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, st.Mode())
}

// flagValue finds --name value, --name=value or -short value in args.
func flagValue(args []string, long, short string) string {
	for i, a := range args {
		if (a == long || a == short) && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, long+"="); ok {
			return v
		}
	}
	return ""
}

func main() {
	args := os.Args[1:]
	command := ""
	for _, a := range args {
		if a == "create" || a == "run" || a == "exec" {
			command = a
			break
		}
	}
	if command != "" {
		if allowed := held(); allowed != nil {
			var err error
			if command == "exec" {
				if p := flagValue(args, "--process", "-p"); p != "" {
					err = filter(p, false, allowed)
				}
			} else {
				bundle := flagValue(args, "--bundle", "-b")
				if bundle == "" {
					bundle, _ = os.Getwd()
				}
				err = filter(filepath.Join(bundle, "config.json"), true, allowed)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "runc-wrapper: leaving capabilities as they are:", err)
			}
		}
	}
	runc := realRunc()
	err := syscall.Exec(runc, append([]string{runc}, args...), os.Environ())
	fmt.Fprintln(os.Stderr, "runc-wrapper: exec", runc+":", err)
	os.Exit(127)
}
