{{/*
The two sidecars as named templates, so any Deployment can carry them: the demo gateway uses them,
and a parent chart that depends on this one includes them with the subchart's context:

  initContainers:        # nativeSidecars: true (containers: when false)
    {{- include "jwtexchange.sidecarContainers" .Subcharts.jwtexchange | nindent 8 }}
  volumes:
    {{- include "jwtexchange.sidecarVolumes" .Subcharts.jwtexchange | nindent 8 }}

docs/operations.md ("Add the sidecars to an existing Deployment") has the full snippet.
*/}}

{{- define "jwtexchange.sidecarContainers" -}}
{{- include "jwtexchange.validate" . }}
{{- include "jwtexchange.envoyContainer" . }}
{{ include "jwtexchange.jwtexchangeContainer" . }}
{{- end }}

{{- define "jwtexchange.jwtexchangeContainer" -}}
{{- $j := .Values.jwtexchange -}}
- name: jwtexchange
  image: {{ include "jwtexchange.image" (dict "image" $j.image "ctx" .) }}
  imagePullPolicy: {{ $j.image.pullPolicy }}
  {{- if .Values.nativeSidecars }}
  restartPolicy: Always
  {{- end }}
  args: ["serve", "--config", "/etc/jwtexchange/config.yaml"]
  {{- with $j.env }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    - { name: jwtx-metrics, containerPort: {{ int $j.httpPort }}, protocol: TCP }
  startupProbe:
    httpGet: { path: /readyz, port: jwtx-metrics }
    periodSeconds: 2
    failureThreshold: 30
  readinessProbe:
    httpGet: { path: /readyz, port: jwtx-metrics }
    periodSeconds: 5
    failureThreshold: 2
  livenessProbe:
    httpGet: { path: /healthz, port: jwtx-metrics }
    periodSeconds: 10
    failureThreshold: 3
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  resources:
    {{- toYaml $j.resources | nindent 4 }}
  volumeMounts:
    - { name: jwtexchange-config, mountPath: /etc/jwtexchange/config.yaml, subPath: config.yaml, readOnly: true }
    - { name: jwtexchange-tmp, mountPath: /tmp }
    {{- if .Values.tls.enabled }}
    - { name: jwtexchange-tls, mountPath: {{ .Values.tls.mountPath }}, readOnly: true }
    {{- end }}
    {{- with $j.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{- define "jwtexchange.envoyContainer" -}}
{{- $e := .Values.envoy -}}
- name: envoy
  image: {{ include "jwtexchange.image" (dict "image" $e.image "ctx" .) }}
  imagePullPolicy: {{ $e.image.pullPolicy }}
  {{- if .Values.nativeSidecars }}
  restartPolicy: Always
  {{- end }}
  command: ["envoy"]
  args:
    - --config-path
    - {{ include "jwtexchange.envoyConfigDir" . }}/envoy.yaml
    - --disable-hot-restart
    - --concurrency
    - {{ int $e.concurrency | quote }}
    - --log-level
    - {{ $e.logLevel }}
  ports:
    {{- if $e.ingress.enabled }}
    - { name: envoy-ingress, containerPort: {{ int $e.ingress.port }}, protocol: TCP }
    {{- end }}
    - { name: envoy-health, containerPort: {{ int $e.healthPort }}, protocol: TCP }
  startupProbe:
    httpGet: { path: /ready, port: envoy-health }
    periodSeconds: 2
    failureThreshold: 30
  readinessProbe:
    httpGet: { path: /ready, port: envoy-health }
    periodSeconds: 5
    failureThreshold: 2
  livenessProbe:
    tcpSocket: { port: envoy-health }
    periodSeconds: 10
    failureThreshold: 3
  {{- if gt (int $e.preStopSleepSeconds) 0 }}
  lifecycle:
    # Keep proxying while the endpoints controller removes the pod from Services.
    preStop:
      sleep: { seconds: {{ int $e.preStopSleepSeconds }} }
  {{- end }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  resources:
    {{- toYaml $e.resources | nindent 4 }}
  volumeMounts:
    - { name: jwtexchange-envoy, mountPath: {{ include "jwtexchange.envoyConfigDir" . }}, readOnly: true }
    - { name: jwtexchange-tmp, mountPath: /tmp }
    {{- if .Values.tls.enabled }}
    - { name: jwtexchange-tls, mountPath: {{ .Values.tls.mountPath }}, readOnly: true }
    {{- end }}
{{- end }}

{{- define "jwtexchange.sidecarVolumes" -}}
- name: jwtexchange-config
  configMap:
    name: {{ include "jwtexchange.configMapName" . }}
- name: jwtexchange-envoy
  configMap:
    name: {{ include "jwtexchange.envoyConfigMapName" . }}
- name: jwtexchange-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.tls.enabled }}
- name: jwtexchange-tls
  secret:
    secretName: {{ include "jwtexchange.tlsSecretName" . }}
    # 0440 written in decimal: YAML 1.1 and 1.2 read a leading-zero number differently.
    defaultMode: 288
{{- end }}
{{- with .Values.jwtexchange.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod annotations that roll the pods when a sidecar config changes. */}}
{{- define "jwtexchange.sidecarPodAnnotations" -}}
checksum/jwtexchange-config: {{ include "jwtexchange.config" . | sha256sum }}
checksum/envoy-config: {{ include "jwtexchange.envoyConfig" . | sha256sum }}
{{- end }}

{{/* Fail early, with the value to fix, on combinations that cannot work. */}}
{{- define "jwtexchange.validate" -}}
{{- if and (include "jwtexchange.envoyUsesTls" .) (not .Values.tls.enabled) }}
{{- fail "envoy TLS (ingress.tls.enabled or an upstream with tls.enabled) needs tls.enabled=true and a Secret (tls.secretName or tls.certManager)" }}
{{- end }}
{{- if and .Values.tls.certManager.enabled (not .Values.tls.certManager.issuerRef.name) }}
{{- fail "tls.certManager.enabled needs tls.certManager.issuerRef.name" }}
{{- end }}
{{- $names := dict }}
{{- $domains := dict }}
{{- range .Values.envoy.egress.upstreams }}
{{- if hasKey $names .name }}{{ fail (printf "envoy.egress.upstreams: duplicate name %q" .name) }}{{ end }}
{{- $_ := set $names .name true }}
{{- $u := . }}
{{- range uniq (concat (list .name .address) (.authorities | default list)) }}
{{- if hasKey $domains . }}{{ fail (printf "envoy.egress.upstreams: %q selects both %s and %s (names, addresses and authorities must be unique)" . (get $domains .) $u.name) }}{{ end }}
{{- $_ := set $domains . $u.name }}
{{- end }}
{{- end }}
{{- include "jwtexchange.validateConfig" . }}
{{- end }}
