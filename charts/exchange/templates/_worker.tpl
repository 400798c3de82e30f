{{/* A background service (settlement, dbwriter, market maker, market simulation); /healthz and /readyz on the
     metrics port. Call with (dict "root" $ "component" "settlement" "database" false
     "waitForDatabase" false "workers" 0 "env" "<rendered env entries>"); its values are
     .Values.<component>. `workers` > 0: a StatefulSet of that many pods (pod N is worker N,
     WORKERS tells each how many there are; single writers per partition by leases), else one
     consumer per deployment, so Recreate (the old pod stops before the new one starts).
     `database`: it uses the database (DATABASE_URL); `waitForDatabase`: it waits for the
     bootstrap Job first. Optional rendered extras: "annotations" (pod template annotations),
     "volumes" and "volumeMounts" (list entries beside the common ones). */}}
{{- define "exchange.worker" -}}
{{- $root := .root }}
{{- $v := index $root.Values .component }}
{{- $name := printf "%s-%s" (include "exchange.fullname" $root) .component }}
apiVersion: apps/v1
kind: {{ if .workers }}StatefulSet{{ else }}Deployment{{ end }}
metadata:
  name: {{ $name }}
  labels:
    {{- include "exchange.componentLabels" . | nindent 4 }}
spec:
  {{- if .workers }}
  replicas: {{ .workers }}
  serviceName: {{ $name }}
  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
  {{- else }}
  replicas: 1
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "exchange.componentSelector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "exchange.componentLabels" . | nindent 8 }}
      annotations:
        {{- include "exchange.marketsChecksum" $root | nindent 8 }}
        {{- with .annotations }}{{ . | nindent 8 }}{{ end }}
    spec:
      {{- include "exchange.podSecurityContext" $root | nindent 6 }}
      {{- with (include "exchange.scheduling" $root | trim) }}{{ . | nindent 6 }}{{ end }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- if .waitForDatabase }}
      initContainers:
        {{- include "exchange.waitForBootstrap" (dict "root" $root "mmKey" (eq .component "marketmaker") "simKeys" (eq .component "marketsim")) | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "exchange.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ .component }}]
          ports:
            - {name: metrics, containerPort: {{ $root.Values.metricsPort }}, protocol: TCP}
          env:
            {{- include "exchange.commonEnv" $root | nindent 12 }}
            {{- if .database }}
            {{- include "exchange.databaseEnv" $root | nindent 12 }}
            {{- end }}
            {{- include "exchange.metricsEnv" $root | nindent 12 }}
            {{- if .workers }}
            - {name: WORKERS, value: {{ .workers | quote }}}
            {{- end }}
            {{- with .env }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- with $v.env }}{{ include "exchange.extraEnv" . | nindent 12 }}{{ end }}
          {{- include "exchange.httpProbes" "metrics" | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          {{- include "exchange.containerSecurityContext" $root | nindent 10 }}
          {{- include "exchange.volumeMounts" $root | nindent 10 }}
          {{- with .volumeMounts }}{{ . | nindent 12 }}{{ end }}
      {{- include "exchange.volumes" $root | nindent 6 }}
      {{- with .volumes }}{{ . | nindent 8 }}{{ end }}
{{- if .workers }}
---
# The workers' governing Service (headless): stable pod names (the ordinal is the worker index).
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "exchange.componentLabels" . | nindent 4 }}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "exchange.componentSelector" . | nindent 4 }}
  ports:
    - {name: metrics, port: {{ $root.Values.metricsPort }}, targetPort: metrics, protocol: TCP}
{{- end }}
{{- end -}}
