{{/*
Names and labels.
*/}}
{{- define "slurm-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "slurm-exporter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "slurm-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "slurm-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slurm-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "slurm-exporter.labels" -}}
helm.sh/chart: {{ include "slurm-exporter.chart" . }}
{{ include "slurm-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: slurm-exporter
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "slurm-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "slurm-exporter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "slurm-exporter.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The high-availability mode as the exporter resolves it (src/config/schema.ts): backend kubernetes and mode
active-passive when election is enabled and they are not set; with election off, backend none and mode
active-active or single (an election mode left in the values then means single). Returned as JSON:
{enabled, backend, mode, kubeApi, namespace, leaseName}.
*/}}
{{- define "slurm-exporter.ha" -}}
{{- $cfg := .Values.config | default dict -}}
{{- $le := dig "server" "leaderElection" dict $cfg -}}
{{- $enabled := dig "enabled" false $le -}}
{{- $mode := dig "mode" "" $le | default "" -}}
{{- $backend := "none" -}}
{{- if $enabled -}}
{{- $backend = dig "backend" "" $le | default "kubernetes" -}}
{{- $mode = $mode | default "active-passive" -}}
{{- else if not (has $mode (list "active-active" "single")) -}}
{{- /* Election off: an election mode left over from the defaults means no election, i.e. single. */ -}}
{{- $mode = "single" -}}
{{- end -}}
{{- $ns := dig "namespace" "" $le | default .Release.Namespace -}}
{{- $lease := dig "leaseName" "" $le | default (include "slurm-exporter.fullname" .) -}}
{{- dict "enabled" $enabled "backend" $backend "mode" $mode "kubeApi" (and $enabled (eq $backend "kubernetes")) "namespace" $ns "leaseName" $lease | toJson -}}
{{- end -}}

{{/* The Secret holding the Slurm credential: an existing one, or the one this chart, an ExternalSecret or a SealedSecret makes. */}}
{{- define "slurm-exporter.secretName" -}}
{{- default (printf "%s-auth" (include "slurm-exporter.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{/* The key in that Secret. */}}
{{- define "slurm-exporter.secretKey" -}}
{{- if .Values.auth.secretKey -}}
{{- .Values.auth.secretKey -}}
{{- else if eq .Values.auth.type "jwtKey" -}}
jwt_hs256.key
{{- else -}}
token
{{- end -}}
{{- end -}}

{{/* The file the credential is mounted as, inside the pod. */}}
{{- define "slurm-exporter.secretFile" -}}
{{- if eq .Values.auth.type "jwtKey" -}}jwt_hs256.key{{- else -}}token{{- end -}}
{{- end -}}

{{/* Enabled collector groups (the exporter's nine groups, each on unless collectors.<group>.enabled is false). */}}
{{- define "slurm-exporter.enabledGroups" -}}
{{- $collectors := dig "collectors" dict (.Values.config | default dict) -}}
{{- $out := list -}}
{{- range $g := list "cluster" "nodes" "jobs" "partitions" "scheduler" "fairshare" "reservations" "licenses" "slurmdbd" -}}
{{- $gc := get $collectors $g | default dict -}}
{{- if ne (toString (dig "enabled" true $gc)) "false" -}}
{{- $out = append $out $g -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
The exporter's configuration file: .Values.config, plus what the chart decides: the listen address (from
ports.http), the lease name (the release's full name unless set), this replica's identity ($POD_NAME) and the
lease namespace ($POD_NAMESPACE unless set), both from the downward API and expanded by the exporter when it
loads the file.
*/}}
{{- define "slurm-exporter.configYaml" -}}
{{- $ha := include "slurm-exporter.ha" . | fromJson -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- $server := get $cfg "server" | default dict -}}
{{- $_ := set $server "listenAddress" (printf ":%d" (int .Values.ports.http)) -}}
{{- $le := get $server "leaderElection" | default dict -}}
{{- if not $ha.enabled -}}
{{- /* The exporter refuses a backend or an election mode without election. */ -}}
{{- $_ := unset $le "backend" -}}
{{- $_ := set $le "mode" $ha.mode -}}
{{- end -}}
{{- $_ := set $le "leaseName" $ha.leaseName -}}
{{- $_ := set $le "identity" "${POD_NAME}" -}}
{{- if not (get $le "namespace") -}}{{- $_ := set $le "namespace" "${POD_NAMESPACE}" -}}{{- end -}}
{{- $_ := set $server "leaderElection" $le -}}
{{- $_ := set $cfg "server" $server -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* What the HPA, VPA and PDB point at: the Deployment, or the Argo Rollout that replaces it. */}}
{{- define "slurm-exporter.workloadRef" -}}
{{- if .Values.rollout.enabled -}}
apiVersion: argoproj.io/v1alpha1
kind: Rollout
{{- else -}}
apiVersion: apps/v1
kind: Deployment
{{- end }}
name: {{ include "slurm-exporter.fullname" . }}
{{- end -}}

{{/*
Checks across values that a JSON schema cannot express. Each failure names the values to change.
*/}}
{{- define "slurm-exporter.validate" -}}
{{- $ha := include "slurm-exporter.ha" . | fromJson -}}
{{- $groups := include "slurm-exporter.enabledGroups" . | fromJsonArray -}}
{{- $replicas := int .Values.replicaCount -}}
{{- if .Values.autoscaling.enabled -}}
{{- if ne $ha.mode "sharded" -}}
{{- fail (printf "autoscaling.enabled: a HorizontalPodAutoscaler only helps in sharded mode, where replicas share the collector groups; in %s mode more replicas do not spread the work (active-passive: one leader polls; active-active and single: every replica polls and slurmctld gets more requests). Set config.server.leaderElection.mode: sharded, or autoscaling.enabled: false" $ha.mode) -}}
{{- end -}}
{{- if gt (int .Values.autoscaling.maxReplicas) (len $groups) -}}
{{- fail (printf "autoscaling.maxReplicas (%d) is above the number of enabled collector groups (%d): in sharded mode a replica beyond that leads no group, never becomes ready and stalls rolling updates" (int .Values.autoscaling.maxReplicas) (len $groups)) -}}
{{- end -}}
{{- if gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas) -}}
{{- fail (printf "autoscaling.minReplicas (%d) is above autoscaling.maxReplicas (%d)" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- $replicas = int .Values.autoscaling.minReplicas -}}
{{- if and .Values.verticalAutoscaler.enabled (ne .Values.verticalAutoscaler.updateMode "Off") (or .Values.autoscaling.targetCPUUtilizationPercentage .Values.autoscaling.targetMemoryUtilizationPercentage) -}}
{{- fail "verticalAutoscaler and autoscaling both act on CPU/memory: the VPA would change the requests the HPA's utilization targets are computed from. Use verticalAutoscaler.updateMode: Off (recommendations only), or HPA custom metrics only (unset autoscaling.targetCPUUtilizationPercentage and targetMemoryUtilizationPercentage)" -}}
{{- end -}}
{{- end -}}
{{- if and (eq $ha.mode "sharded") (gt $replicas (len $groups)) -}}
{{- fail (printf "replicaCount (%d) is above the number of enabled collector groups (%d): in sharded mode a replica beyond that leads no group, never becomes ready and stalls rolling updates" $replicas (len $groups)) -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (ge (int .Values.podDisruptionBudget.minAvailable) $replicas) (gt $replicas 0) -}}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be below the replica count (%d), else no pod can ever be evicted and node drains block" (int .Values.podDisruptionBudget.minAvailable) $replicas) -}}
{{- end -}}
{{- if and (eq .Values.auth.type "jwtKey") (not .Values.auth.user) (not (dig "slurm" "user" "" (.Values.config | default dict))) -}}
{{- fail "auth.type jwtKey: set auth.user, the Slurm user the exporter signs its tokens for (--slurm.user)" -}}
{{- end -}}
{{- $sources := 0 -}}
{{- if .Values.auth.existingSecret }}{{ $sources = add1 $sources }}{{ end -}}
{{- if .Values.auth.externalSecret.enabled }}{{ $sources = add1 $sources }}{{ end -}}
{{- if .Values.auth.sealedSecret.enabled }}{{ $sources = add1 $sources }}{{ end -}}
{{- if gt $sources 1 -}}
{{- fail "auth: choose one of auth.existingSecret, auth.externalSecret.enabled and auth.sealedSecret.enabled" -}}
{{- end -}}
{{- if and (gt $sources 0) (or .Values.auth.token .Values.auth.jwtKeyBase64) -}}
{{- fail "auth: auth.token / auth.jwtKeyBase64 are for the Secret this chart creates; with auth.existingSecret, externalSecret or sealedSecret the credential comes from there, so leave them empty" -}}
{{- end -}}
{{- if and (eq .Values.auth.type "none") (gt $sources 0) -}}
{{- fail "auth.type none mounts no credential: remove auth.existingSecret, externalSecret and sealedSecret, or set auth.type token or jwtKey" -}}
{{- end -}}
{{- if and (eq $ha.backend "etcd") .Values.networkPolicy.enabled (not (or .Values.networkPolicy.etcd.cidrs .Values.networkPolicy.etcd.podSelector .Values.networkPolicy.etcd.namespaceSelector)) -}}
{{- fail "leader election backend etcd with networkPolicy.enabled: say where etcd is (networkPolicy.etcd.cidrs, or podSelector/namespaceSelector), else the policy blocks the exporter from its lease" -}}
{{- end -}}
{{- end -}}

{{/*
One NetworkPolicy egress rule as JSON: to the peer's CIDRs and/or its namespace+pod selector, on TCP ports.
With anyWhenEmpty and no peer: any destination on those ports. Without it, no peer is an error.
*/}}
{{- define "slurm-exporter.egressRule" -}}
{{- $to := list -}}
{{- range (.peer.cidrs | default list) -}}
{{- $to = append $to (dict "ipBlock" (dict "cidr" .)) -}}
{{- end -}}
{{- $sel := dict -}}
{{- with .peer.namespaceSelector }}{{ $_ := set $sel "namespaceSelector" . }}{{ end -}}
{{- with .peer.podSelector }}{{ $_ := set $sel "podSelector" . }}{{ end -}}
{{- if $sel }}{{ $to = append $to $sel }}{{ end -}}
{{- $ports := list -}}
{{- range .ports }}{{ $ports = append $ports (dict "protocol" "TCP" "port" (int .)) }}{{ end -}}
{{- if and (not $to) (not .anyWhenEmpty) -}}
{{- fail (printf "%s: give cidrs or a podSelector/namespaceSelector, else the NetworkPolicy blocks the exporter's traffic there" .what) -}}
{{- end -}}
{{- $rule := dict "ports" $ports -}}
{{- if $to }}{{ $_ := set $rule "to" $to }}{{ end -}}
{{- toJson $rule -}}
{{- end -}}
