{{/* Names, labels and the pieces every workload shares. */}}

{{- define "exchange.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-exchange, or the release name when it already contains the chart's name. */}}
{{- define "exchange.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "exchange.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "exchange.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "exchange.selectorLabels" -}}
app.kubernetes.io/name: {{ include "exchange.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one component: call with (dict "root" $ "component" "gateway"). */}}
{{- define "exchange.componentLabels" -}}
{{ include "exchange.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "exchange.componentSelector" -}}
{{ include "exchange.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "exchange.image" -}}
{{ .Values.image.repository }}:{{ include "exchange.tag" (.Values.image.tag | default .Chart.AppVersion) }}
{{- end -}}

{{/* An image tag as text: a number (`--set image.tag=42`, `tag: 1.2` in a values file) as written;
a whole number read as a float (values files) without an exponent. Quote a tag such as "1.10". */}}
{{- define "exchange.tag" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- end -}}

{{- define "exchange.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "exchange.fullname" .)) -}}
{{- end -}}

{{- define "exchange.redisHost" -}}
{{ include "exchange.fullname" . }}-redis
{{- end -}}

{{- define "exchange.databaseHost" -}}
{{ include "exchange.fullname" . }}-timescaledb
{{- end -}}

{{/* The Redis of the release: "single", "cluster" or "external" (redis.mode). The deprecated
     redis.bundled, when set, still works: true is single, false is external; with a redis.mode
     that contradicts it, or redis-cluster.enabled not matching redis.mode cluster, rendering fails
     and says what to set. */}}
{{- define "exchange.redisMode" -}}
{{- $redis := .Values.redis }}
{{- $mode := $redis.mode | default "single" }}
{{- if kindIs "bool" $redis.bundled }}
{{- if and $redis.bundled (ne $mode "single") }}
{{- fail (printf "redis.bundled: true (deprecated) contradicts redis.mode: %s; drop redis.bundled" $mode) }}
{{- else if and (not $redis.bundled) (eq $mode "cluster") }}
{{- fail "redis.bundled: false (deprecated) contradicts redis.mode: cluster; drop redis.bundled" }}
{{- else if not $redis.bundled }}
{{- $mode = "external" }}
{{- end }}
{{- end }}
{{- $clusterChart := (index .Values "redis-cluster" | default dict).enabled | default false }}
{{- if and (eq $mode "cluster") (not $clusterChart) }}
{{- fail "redis.mode: cluster needs redis-cluster.enabled: true (the Redis Cluster of the bundled Bitnami redis-cluster chart)" }}
{{- else if and (ne $mode "cluster") $clusterChart }}
{{- fail (printf "redis-cluster.enabled: true needs redis.mode: cluster (it is %s)" $mode) }}
{{- end }}
{{- $mode -}}
{{- end -}}

{{/* The fullname the Bitnami redis-cluster dependency gives its StatefulSet, Services and Secret
     (its common.names.fullname, with the dependency's values). */}}
{{- define "exchange.redisClusterName" -}}
{{- $sub := index .Values "redis-cluster" | default dict }}
{{- if $sub.fullnameOverride }}
{{- $sub.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := $sub.nameOverride | default "redis-cluster" }}
{{- $release := regexReplaceAll "(-?[^a-z\\d\\-])+-?" (lower .Release.Name) "-" }}
{{- if contains $name $release }}
{{- $release | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" $release $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end -}}

{{/* REDIS_URL, for every Python service (after REDIS_PASSWORD, which the URLs of the release's own
     Redis refer to). single: the StatefulSet of redis.yaml; cluster: any node of the dependency's
     Redis Cluster through its headless Service, with the password of its Secret; external: the
     address given. */}}
{{- define "exchange.redisEnv" -}}
{{- $mode := include "exchange.redisMode" . }}
{{- if eq $mode "single" }}
{{ include "exchange.secretEnv" (dict "root" . "name" "REDIS_PASSWORD") }}
- name: REDIS_URL
  value: redis://:$(REDIS_PASSWORD)@{{ include "exchange.redisHost" . }}:6379/0
{{- else if eq $mode "cluster" }}
{{- $sub := index .Values "redis-cluster" }}
{{- $port := 6379 }}
{{- if and $sub.redis $sub.redis.containerPorts $sub.redis.containerPorts.redis }}
{{- $port = $sub.redis.containerPorts.redis }}
{{- end }}
{{- $auth := "" }}
{{- if or (not (hasKey $sub "usePassword")) $sub.usePassword }}
{{- $auth = ":$(REDIS_PASSWORD)@" }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $sub.existingSecret | default (include "exchange.redisClusterName" .) }}
      key: {{ and $sub.existingSecret $sub.existingSecretPasswordKey | default "redis-password" }}
{{- end }}
- name: REDIS_URL
  value: redis+cluster://{{ $auth }}{{ include "exchange.redisClusterName" . }}-headless:{{ $port }}
{{- else if .Values.redis.external.secretName }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.redis.external.secretName }}, key: {{ .Values.redis.external.secretKey }}}
{{- else }}
- name: REDIS_URL
  value: {{ required "redis.external.url (or redis.external.secretName) is required when redis.mode is external" .Values.redis.external.url | quote }}
{{- end }}
{{- end -}}

{{/* DATABASE_URL (after DB_PASSWORD, which the bundled DSN refers to), only for the processes
     that use the database: gateway, dbwriter, bootstrap. */}}
{{- define "exchange.databaseEnv" -}}
{{- if .Values.database.bundled }}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "exchange.secretName" . }}, key: DB_PASSWORD}
- name: DATABASE_URL
  value: postgresql://postgres:$(DB_PASSWORD)@{{ include "exchange.databaseHost" . }}:5432/{{ .Values.database.name }}
{{- else if .Values.database.external.secretName }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.database.external.secretName }}, key: {{ .Values.database.external.secretKey }}}
{{- else }}
- name: DATABASE_URL
  value: {{ required "database.external.url (or database.external.secretName) is required when database.bundled is false" .Values.database.external.url | quote }}
{{- end }}
{{- end -}}

{{/* The environment of every Python service. */}}
{{- define "exchange.commonEnv" -}}
{{ include "exchange.redisEnv" . | trim }}
- name: KEY_PREFIX
  value: {{ .Values.keyPrefix | quote }}
- name: MARKETS_FILE
  value: /etc/exchange/markets.toml
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- with .Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Extra environment from a map (component values' `env`). */}}
{{- define "exchange.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "exchange.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef: {name: {{ include "exchange.secretName" .root }}, key: {{ .key | default .name }}}
{{- end -}}

{{/* Where the processes that serve /healthz and /readyz on METRICS_PORT bind it. */}}
{{- define "exchange.metricsEnv" -}}
- name: METRICS_HOST
  value: 0.0.0.0
- name: METRICS_PORT
  value: {{ .Values.metricsPort | quote }}
{{- end -}}

{{/* Liveness /healthz and readiness /readyz on the named port. */}}
{{- define "exchange.httpProbes" -}}
livenessProbe:
  httpGet: {path: /healthz, port: {{ . }}}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: {{ . }}}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}

{{/* Pod-level hardening: no process needs the Kubernetes API, nor root. */}}
{{- define "exchange.podSecurityContext" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{- define "exchange.containerSecurityContext" -}}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
{{- end -}}

{{/* The markets registry (a mounted ConfigMap) and a writable /tmp. */}}
{{- define "exchange.volumes" -}}
volumes:
  - name: markets
    configMap:
      name: {{ include "exchange.fullname" . }}-markets
  - name: tmp
    emptyDir: {}
{{- end -}}

{{- define "exchange.volumeMounts" -}}
volumeMounts:
  - {name: markets, mountPath: /etc/exchange, readOnly: true}
  - {name: tmp, mountPath: /tmp}
{{- end -}}

{{- define "exchange.scheduling" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* An init container that waits until the bootstrap Job has migrated the database (and, with
     mmKey, set up the market maker's key; with simKeys, the market simulation's agents' keys).
     Call with (dict "root" $ "mmKey" true "simKeys" false). */}}
{{- define "exchange.waitForBootstrap" -}}
- name: wait-for-bootstrap
  image: {{ include "exchange.image" .root }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  args: [launcher.bootstrap, --wait]
  env:
    {{- include "exchange.commonEnv" .root | nindent 4 }}
    {{- include "exchange.databaseEnv" .root | nindent 4 }}
    - name: BOOTSTRAP_TIMEOUT_SECONDS
      value: "3600"
    {{- if .mmKey }}
    {{- include "exchange.secretEnv" (dict "root" .root "name" "MM_API_KEY") | nindent 4 }}
    {{- end }}
    {{- if .simKeys }}
    {{- include "exchange.simAccountsEnv" .root | nindent 4 }}
    {{- end }}
  resources:
    {{- toYaml .root.Values.bootstrap.resources | nindent 4 }}
  {{- include "exchange.containerSecurityContext" .root | nindent 2 }}
  {{- include "exchange.volumeMounts" .root | nindent 2 }}
{{- end -}}

{{/* The registry as TOML, the format of services/exchange_core/markets.toml. */}}
{{- define "exchange.marketsToml" -}}
[assets]
{{- range $name, $asset := .Values.assets }}
{{ $name }} = { decimals = {{ $asset.decimals }} }
{{- end }}
{{- range .Values.markets }}

[[markets]]
symbol = {{ .symbol | quote }}
base = {{ .base | quote }}
quote = {{ .quote | quote }}
tick_size = {{ .tick_size | quote }}
step_size = {{ .step_size | quote }}
min_qty = {{ .min_qty | quote }}
max_qty = {{ .max_qty | quote }}
min_notional = {{ .min_notional | quote }}
maker_fee = {{ .maker_fee | quote }}
taker_fee = {{ .taker_fee | quote }}
{{- end }}
{{- end -}}

{{/* A checksum of the registry: the pods that read all of it roll when it changes. */}}
{{- define "exchange.marketsChecksum" -}}
checksum/markets: {{ include "exchange.marketsToml" . | sha256sum }}
{{- end -}}

{{/* The market simulation's agents (JSON list), as marketsim.settings.agent_names names them: one
     maker-<name> per maker of marketsim.mix and marketsim.marketMix (a mix without `makers` has
     marketsim's three), then depth, noise, momentum, meanrev and sweeper. */}}
{{- define "exchange.simAgents" -}}
{{- $makers := list }}
{{- $sim := .Values.marketsim }}
{{- range $mix := prepend (values $sim.marketMix | default list) $sim.mix }}
{{- $names := list "tight" "medium" "wide" }}
{{- if hasKey $mix "makers" }}
{{- $names = list }}
{{- range $mix.makers }}{{ $names = append $names .name }}{{ end }}
{{- end }}
{{- range $names }}{{ $makers = append $makers (printf "maker-%s" .) }}{{ end }}
{{- end }}
{{- concat ($makers | uniq) (list "depth" "noise" "momentum" "meanrev" "sweeper") | toJson }}
{{- end -}}

{{/* The Secret's key (and environment variable) of an agent's API key: SIM_MAKER_TIGHT_API_KEY;
     its secret: the same ending in _API_SECRET. */}}
{{- define "exchange.simKeyName" -}}
SIM_{{ . | upper | replace "-" "_" }}_API_KEY
{{- end -}}

{{/* Every agent's key and secret from the Secret, then SIM_ACCOUNTS ({"agent": ["key", "secret"]},
     what marketsim and the bootstrap Job read) built from them. */}}
{{- define "exchange.simAccountsEnv" -}}
{{- $accounts := list }}
{{- range $agent := include "exchange.simAgents" . | fromJsonArray }}
{{- $key := include "exchange.simKeyName" $agent }}
{{- $secret := printf "%sSECRET" (trimSuffix "KEY" $key) }}
{{ include "exchange.secretEnv" (dict "root" $ "name" $key) }}
{{ include "exchange.secretEnv" (dict "root" $ "name" $secret) }}
{{- $accounts = append $accounts (printf "%s: [\"$(%s)\", \"$(%s)\"]" ($agent | toJson) $key $secret) }}
{{- end }}
- name: SIM_ACCOUNTS
  value: {{ printf "{%s}" (join ", " $accounts) | quote }}
{{- end -}}

{{/* "true" when the market maker runs, else "": marketmaker.enabled when set, else (null) only
     when the market simulation is off. */}}
{{- define "exchange.marketmakerEnabled" -}}
{{- $on := .Values.marketmaker.enabled -}}
{{- if kindIs "invalid" $on }}{{ $on = not .Values.marketsim.enabled }}{{ end -}}
{{- if $on }}true{{ end -}}
{{- end }}
