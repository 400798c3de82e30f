{{/* HorizontalPodAutoscaler and PodDisruptionBudget of a scalable tier: call with
     (dict "root" $ "component" "gateway"); its values are .Values.<component>. */}}
{{- define "exchange.autoscaling" -}}
{{- $v := index .root.Values .component }}
{{- $name := printf "%s-%s" (include "exchange.fullname" .root) .component }}
{{- if $v.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  labels:
    {{- include "exchange.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}}
{{- end }}
{{- $least := ternary $v.autoscaling.minReplicas $v.replicas $v.autoscaling.enabled }}
{{- /* With a single pod a budget would block every node drain: none then. */}}
{{- if and $v.podDisruptionBudget.enabled (gt (int $least) 1) }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "exchange.componentLabels" . | nindent 4 }}
spec:
  minAvailable: {{ $v.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "exchange.componentSelector" . | nindent 6 }}
{{- end }}
{{- end -}}
