{{/* A single-replica background service (settlement, dbwriter, market maker): one consumer per
     deployment, so Recreate (the old pod stops before the new one starts); /healthz and /readyz
     on the metrics port. Call with (dict "root" $ "component" "settlement" "database" false
     "waitForDatabase" false "env" "<rendered env entries>"); its values are .Values.<component>.
     `database`: it uses the database (DATABASE_URL); `waitForDatabase`: it waits for the
     bootstrap Job first. */}}
{{- define "exchange.worker" -}}
{{- $root := .root }}
{{- $v := index $root.Values .component }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "exchange.fullname" $root }}-{{ .component }}
  labels:
    {{- include "exchange.componentLabels" . | nindent 4 }}
spec:
  replicas: 1
  strategy:
    type: Recreate
  selector:
    matchLabels:
      {{- include "exchange.componentSelector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "exchange.componentLabels" . | nindent 8 }}
      annotations:
        {{- include "exchange.marketsChecksum" $root | nindent 8 }}
    spec:
      {{- include "exchange.podSecurityContext" $root | nindent 6 }}
      {{- with (include "exchange.scheduling" $root | trim) }}{{ . | nindent 6 }}{{ end }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- if .waitForDatabase }}
      initContainers:
        {{- include "exchange.waitForBootstrap" (dict "root" $root "mmKey" (eq .component "marketmaker")) | nindent 8 }}
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
            {{- with .env }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- with $v.env }}{{ include "exchange.extraEnv" . | nindent 12 }}{{ end }}
          {{- include "exchange.httpProbes" "metrics" | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          {{- include "exchange.containerSecurityContext" $root | nindent 10 }}
          {{- include "exchange.volumeMounts" $root | nindent 10 }}
      {{- include "exchange.volumes" $root | nindent 6 }}
{{- end -}}
