{{/*
Backups (values backup:, docs/backup.md): names, the backup configuration file and the pod of every backup
CronJob (backup.mode cronjobs) and of the `backup schedule` Deployment (backup.mode schedule).
*/}}
{{- define "slurm-exporter.backup.fullname" -}}
{{- printf "%s-backup" (include "slurm-exporter.fullname" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "slurm-exporter.backup.serviceAccountName" -}}
{{- if .Values.backup.serviceAccount.create -}}
{{- default (include "slurm-exporter.backup.fullname" .) .Values.backup.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.backup.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "slurm-exporter.backup.claimName" -}}
{{- default (include "slurm-exporter.backup.fullname" .) .Values.backup.persistence.existingClaim -}}
{{- end -}}

{{/* Backup pods' labels: not the exporter's selector labels, so no Service, PodDisruptionBudget or NetworkPolicy of the exporter selects them. */}}
{{- define "slurm-exporter.backup.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slurm-exporter.name" . }}-backup
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: backup
{{- end -}}

{{- define "slurm-exporter.backup.dataDir" -}}/var/lib/slurm-exporter-backup{{- end -}}
{{- define "slurm-exporter.backup.keyDir" -}}/var/run/secrets/slurm-exporter-backup{{- end -}}

{{/* The backup commands' --config.file: the exporter's configuration with a `backup:` section built from the values. */}}
{{- define "slurm-exporter.backup.configYaml" -}}
{{- $b := .Values.backup -}}
{{- $cfg := include "slurm-exporter.configYaml" . | fromYaml -}}
{{- $section := dict -}}
{{- range $t := list "configuration" "monitoring" "deployment" "certificates" "logs" -}}
{{- $v := get $b.types $t -}}
{{- $_ := set $section $t (dict "enabled" $v.enabled "schedule" $v.schedule "retention" $v.retention) -}}
{{- end -}}
{{- $_ := set $section "primary" (dict "path" (include "slurm-exporter.backup.dataDir" .) "required" $b.primary.required) -}}
{{- with $b.secondary -}}
{{- $_ := set $section "secondary" (deepCopy .) -}}
{{- end -}}
{{- if $b.encryption.existingSecret -}}
{{- $keyDir := include "slurm-exporter.backup.keyDir" . -}}
{{- $old := list -}}
{{- range $b.encryption.oldSecretKeys -}}{{- $old = append $old (printf "%s/%s" $keyDir .) -}}{{- end -}}
{{- $_ := set $section "encryption" (dict "keyFile" (printf "%s/%s" $keyDir $b.encryption.secretKey) "oldKeyFiles" $old) -}}
{{- end -}}
{{- $paths := dict -}}
{{- range $k, $v := $b.paths -}}
{{- if $v -}}{{- $_ := set $paths $k $v -}}{{- end -}}
{{- end -}}
{{- $_ := set $section "paths" $paths -}}
{{- $section = mergeOverwrite $section (deepCopy ($b.config | default dict)) -}}
{{- /* Where `backup schedule` serves /metrics and /health: the Deployment's container port, whatever backup.config says. */ -}}
{{- $_ := set $section "listenAddress" (printf ":%v" $b.scheduler.port) -}}
{{- $_ := set $cfg "backup" $section -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/*
The Job of a backup CronJob. Arguments: dict "root" $ "args" (list ...) "kubeApi" bool "name" string.
*/}}
{{- define "slurm-exporter.backup.jobTemplate" -}}
{{- $b := .root.Values.backup -}}
spec:
  backoffLimit: {{ $b.backoffLimit }}
  activeDeadlineSeconds: {{ $b.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ $b.ttlSecondsAfterFinished }}
  template:
    {{- include "slurm-exporter.backup.podTemplate" . | nindent 4 }}
{{- end -}}

{{/*
The pod of a backup CronJob or of the `backup schedule` Deployment. Arguments: dict "root" $ "args" (list ...)
"kubeApi" bool "name" string, and "scheduler" true for the Deployment (restartPolicy Always, the metrics port,
probes on /health, TZ from backup.timeZone: the process reads its schedules in local time).
The same hardened pod as the exporter's: non-root, read-only root, no privilege escalation, no capabilities,
RuntimeDefault seccomp, no automounted token (a projected one only where the deployment backup runs, which
reads the Kubernetes API), the key a read-only file.
*/}}
{{- define "slurm-exporter.backup.podTemplate" -}}
{{- $root := .root -}}
{{- $b := $root.Values.backup -}}
{{- $fullname := include "slurm-exporter.fullname" $root -}}
metadata:
  labels:
    {{- include "slurm-exporter.backup.selectorLabels" $root | nindent 4 }}
    slurm-exporter.io/backup-job: {{ .name }}
    {{- with $b.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/backup-config: {{ include "slurm-exporter.backup.configYaml" $root | sha256sum }}
    {{- with $b.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  restartPolicy: {{ ternary "Always" "Never" (eq .scheduler true) }}
  serviceAccountName: {{ include "slurm-exporter.backup.serviceAccountName" $root }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- with $b.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $b.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $b.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: backup
      image: {{ include "slurm-exporter.image" $root | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      {{- with $root.Values.command }}
      command:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      args:
        {{- range .args }}
        - {{ . | quote }}
        {{- end }}
        - "--config.file=/etc/slurm-exporter-backup/config.yaml"
        {{- range $b.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        # The configuration's ${POD_NAME} / ${POD_NAMESPACE}; POD_NAMESPACE is also the namespace the
        # deployment backup reads.
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        {{- if and .scheduler $b.timeZone }}
        # The schedules are read in the process' local time (a CronJob has spec.timeZone instead).
        - name: TZ
          value: {{ $b.timeZone | quote }}
        {{- end }}
        {{- with $b.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- if .scheduler }}
      ports:
        - name: backup-metrics
          containerPort: {{ $b.scheduler.port }}
          protocol: TCP
      livenessProbe:
        httpGet:
          path: /health
          port: backup-metrics
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /health
          port: backup-metrics
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 2
      {{- end }}
      resources:
        {{- toYaml $b.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: backup-config
          mountPath: /etc/slurm-exporter-backup
          readOnly: true
        - name: exporter-config
          mountPath: /etc/slurm-exporter
          readOnly: true
        - name: backup-data
          mountPath: {{ include "slurm-exporter.backup.dataDir" $root }}
        {{- if $b.encryption.existingSecret }}
        - name: backup-key
          mountPath: {{ include "slurm-exporter.backup.keyDir" $root }}
          readOnly: true
        {{- end }}
        {{- if .kubeApi }}
        - name: kube-api-access
          mountPath: /var/run/secrets/kubernetes.io/serviceaccount
          readOnly: true
        {{- end }}
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: backup-config
      configMap:
        name: {{ include "slurm-exporter.backup.fullname" $root }}
    - name: exporter-config
      configMap:
        name: {{ $fullname }}
    - name: backup-data
      persistentVolumeClaim:
        claimName: {{ include "slurm-exporter.backup.claimName" $root }}
    {{- if $b.encryption.existingSecret }}
    - name: backup-key
      secret:
        secretName: {{ $b.encryption.existingSecret }}
        # 0440: readable by the pod's group (fsGroup), nobody else.
        defaultMode: 288
        items:
          - key: {{ $b.encryption.secretKey }}
            path: {{ $b.encryption.secretKey }}
          {{- range $b.encryption.oldSecretKeys }}
          - key: {{ . }}
            path: {{ . }}
          {{- end }}
    {{- end }}
    {{- if .kubeApi }}
    - name: kube-api-access
      projected:
        defaultMode: 288
        sources:
          - serviceAccountToken:
              path: token
              expirationSeconds: {{ $root.Values.serviceAccount.tokenExpirationSeconds }}
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
        sizeLimit: {{ $b.tmpSizeLimit }}
{{- end -}}
