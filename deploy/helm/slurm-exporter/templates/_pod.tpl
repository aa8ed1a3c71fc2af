{{/*
The pod template shared by the Deployment and the Argo Rollout that can replace it.
*/}}
{{- define "slurm-exporter.readinessPath" -}}
{{- $ha := include "slurm-exporter.ha" . | fromJson -}}
{{- if .Values.probes.readiness.path -}}
{{- .Values.probes.readiness.path -}}
{{- else if eq $ha.mode "active-passive" -}}
{{- /* A standby answers /ready 503 by design. As a readiness probe that leaves one ready pod of three:
       the Deployment never counts the new pods as available, so a rolling update stalls, and the
       PodDisruptionBudget (minAvailable 2) never allows an eviction. /health keeps every replica ready;
       Prometheus scrapes each pod and a standby's page carries only the exporter's own metrics. */ -}}
/health
{{- else -}}
/ready
{{- end -}}
{{- end -}}

{{- define "slurm-exporter.podTemplate" -}}
{{- $ha := include "slurm-exporter.ha" . | fromJson -}}
{{- $fullname := include "slurm-exporter.fullname" . -}}
metadata:
  labels:
    {{- include "slurm-exporter.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: exporter
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # A change of the exporter's configuration rolls the pods.
    checksum/config: {{ include "slurm-exporter.configYaml" . | sha256sum }}
    {{- if and (eq .Values.auth.type "jwtKey") .Values.auth.jwtKeyBase64 }}
    # The exporter reads the HS256 key once at start (a token file it re-reads): a new key rolls the pods.
    checksum/jwt-key: {{ .Values.auth.jwtKeyBase64 | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "slurm-exporter.serviceAccountName" . }}
  # The token is mounted only when leader election talks to the Kubernetes API (projected volume below).
  automountServiceAccountToken: false
  enableServiceLinks: false
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  {{- if .Values.affinity }}
  affinity:
    {{- toYaml .Values.affinity | nindent 4 }}
  {{- else if .Values.podAntiAffinity.enabled }}
  affinity:
    podAntiAffinity:
      # Preferred, not required: a small cluster (or a single zone) still schedules every replica.
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: {{ .Values.podAntiAffinity.hostnameWeight }}
          podAffinityTerm:
            labelSelector:
              matchLabels:
                {{- include "slurm-exporter.selectorLabels" . | nindent 16 }}
            topologyKey: kubernetes.io/hostname
        - weight: {{ .Values.podAntiAffinity.zoneWeight }}
          podAffinityTerm:
            labelSelector:
              matchLabels:
                {{- include "slurm-exporter.selectorLabels" . | nindent 16 }}
            topologyKey: topology.kubernetes.io/zone
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: slurm-exporter
      image: {{ include "slurm-exporter.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      {{- with .Values.command }}
      command:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      args:
        - --config.file=/etc/slurm-exporter/config.yaml
        {{- if eq .Values.auth.type "token" }}
        - --slurm.token-file=/var/run/secrets/slurm/token
        {{- else if eq .Values.auth.type "jwtKey" }}
        - --slurm.jwt-key-file=/var/run/secrets/slurm/jwt_hs256.key
        {{- end }}
        {{- with .Values.auth.user }}
        - --slurm.user={{ . }}
        {{- end }}
        {{- range .Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        # Leader election: this replica's identity in the lease, and the lease's namespace.
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: http-metrics
          containerPort: {{ .Values.ports.http }}
          protocol: TCP
      startupProbe:
        httpGet:
          path: /health
          port: http-metrics
          scheme: {{ .Values.probes.scheme }}
        {{- toYaml .Values.probes.startup.timing | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /health
          port: http-metrics
          scheme: {{ .Values.probes.scheme }}
        {{- toYaml .Values.probes.liveness.timing | nindent 8 }}
      readinessProbe:
        httpGet:
          path: {{ include "slurm-exporter.readinessPath" . }}
          port: http-metrics
          scheme: {{ .Values.probes.scheme }}
        {{- toYaml .Values.probes.readiness.timing | nindent 8 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/slurm-exporter
          readOnly: true
        {{- if ne .Values.auth.type "none" }}
        - name: slurm-auth
          mountPath: /var/run/secrets/slurm
          readOnly: true
        {{- end }}
        {{- if $ha.kubeApi }}
        - name: kube-api-access
          mountPath: /var/run/secrets/kubernetes.io/serviceaccount
          readOnly: true
        {{- end }}
        - name: tmp
          mountPath: /tmp
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ $fullname }}
    {{- if ne .Values.auth.type "none" }}
    - name: slurm-auth
      secret:
        secretName: {{ include "slurm-exporter.secretName" . }}
        # 0440: readable by the pod's group (fsGroup), nobody else.
        defaultMode: 288
        items:
          - key: {{ include "slurm-exporter.secretKey" . }}
            path: {{ include "slurm-exporter.secretFile" . }}
    {{- end }}
    {{- if $ha.kubeApi }}
    # What automountServiceAccountToken would mount, made explicit: a short-lived token the kubelet renews,
    # the cluster CA and the namespace. Only leader election with the Kubernetes backend needs the API.
    - name: kube-api-access
      projected:
        defaultMode: 288
        sources:
          - serviceAccountToken:
              path: token
              expirationSeconds: {{ .Values.serviceAccount.tokenExpirationSeconds }}
          - configMap:
              name: kube-root-ca.crt
              items:
                - key: ca.crt
                  path: ca.crt
          - downwardAPI:
              items:
                - path: namespace
                  fieldRef:
                    apiVersion: v1
                    fieldPath: metadata.namespace
    {{- end }}
    - name: tmp
      emptyDir:
        medium: Memory
        sizeLimit: 64Mi
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
