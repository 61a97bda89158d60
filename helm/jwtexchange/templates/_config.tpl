{{/*
The jwtexchange config file. `server` and `log` come from the chart (the listen addresses must
match the container ports and Envoy's cluster); everything else is .Values.jwtexchange.config.
*/}}
{{- define "jwtexchange.config" -}}
{{- $j := .Values.jwtexchange -}}
{{- $server := dict
    "grpcAddress" (printf "127.0.0.1:%d" (int $j.grpcPort))
    "httpAddress" (printf "0.0.0.0:%d" (int $j.httpPort))
    "drainDelayMs" (int $j.drainDelayMs)
    "workers" (ternary $j.workers (int $j.workers) (eq (toString $j.workers) "auto"))
    "shutdownGraceMs" (int $j.shutdownGraceMs) }}
{{- if include "jwtexchange.httpTransport" . }}
{{- $_ := set $server "httpCheckAddress" (printf "127.0.0.1:%d" (int $j.httpCheckPort)) }}
{{- $_ := set $server "httpCheckTimeoutMs" (include "jwtexchange.httpCheckTimeoutMs" . | int) }}
{{- end }}
{{- $owned := dict "server" $server "log" (dict "level" $j.logLevel) }}
{{- $config := mergeOverwrite (deepCopy (omit $j.config "server" "log")) $owned }}
{{- toYaml $config }}
{{- end }}

{{/* "true" when Envoy asks jwtexchange over HTTP (jwtexchange.checkTransport http), else empty. */}}
{{- define "jwtexchange.httpTransport" -}}
{{- if eq (toString .Values.jwtexchange.checkTransport) "http" }}true{{ end }}
{{- end }}

{{/*
server.httpCheckTimeoutMs: Envoy sends each HTTP check's deadline (x-envoy-expected-rq-timeout-ms);
this is the deadline of a check without it: Envoy's check timeout, the longer of the enabled
listeners' (one process answers both), so an outbound check is never cut short while a cold token
exchange could still finish in Envoy's time.
*/}}
{{- define "jwtexchange.httpCheckTimeoutMs" -}}
{{- $e := .Values.envoy -}}
{{- $ms := list -}}
{{- if or $e.ingress.enabled (not $e.egress.enabled) }}
{{- $ms = append $ms (include "jwtexchange.durationMs" $e.extAuthzTimeout | int) }}
{{- end }}
{{- if $e.egress.enabled }}
{{- $ms = append $ms (include "jwtexchange.durationMs" $e.egress.extAuthzTimeout | int) }}
{{- end }}
{{- max (index $ms 0) (last $ms) }}
{{- end }}

{{/* An Envoy duration as the schema allows it (`1s`, `0.5s`, `250ms`, `2m`, `1h`) in milliseconds. */}}
{{- define "jwtexchange.durationMs" -}}
{{- $d := toString . -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $d -}}
{{- $unit := trimPrefix $number $d -}}
{{- $scale := get (dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000) $unit -}}
{{- if not $scale }}{{ fail (printf "%q is not a duration (e.g. 1s, 250ms)" $d) }}{{ end -}}
{{- round (mulf (float64 $number) $scale) 0 | int -}}
{{- end }}
