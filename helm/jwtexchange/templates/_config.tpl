{{/*
The jwtexchange config file. `server` and `log` come from the chart (the listen addresses must
match the container ports and Envoy's cluster); everything else is .Values.jwtexchange.config.
*/}}
{{- define "jwtexchange.config" -}}
{{- $j := .Values.jwtexchange -}}
{{- $owned := dict
  "server" (dict
    "grpcAddress" (printf "127.0.0.1:%d" (int $j.grpcPort))
    "httpAddress" (printf "0.0.0.0:%d" (int $j.httpPort))
    "drainDelayMs" (int $j.drainDelayMs)
    "workers" (ternary $j.workers (int $j.workers) (eq (toString $j.workers) "auto"))
    "shutdownGraceMs" (int $j.shutdownGraceMs))
  "log" (dict "level" $j.logLevel) }}
{{- $config := mergeOverwrite (deepCopy (omit $j.config "server" "log")) $owned }}
{{- toYaml $config }}
{{- end }}
