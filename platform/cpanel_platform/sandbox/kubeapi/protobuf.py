"""Decoding of Kubernetes protobuf request bodies into the JSON objects the API server would see.

Typed clients (kubectl's `create` generators, `auth can-i`) send built-in kinds as
`application/vnd.kubernetes.protobuf`: the magic b"k8s\\x00", then a runtime.Unknown message
{1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType} whose raw
bytes are the object's own message. `decode` turns such a body into the dict Go's encoding/json
would print for the decoded object.

The schema table maps each message's field numbers (from the generated.proto files of k8s.io/api
and k8s.io/apimachinery) to a JSON name and a type:

    "string", "bytes", "bool", "int32", "int64"   scalars ("bytes" print as base64)
    "Quantity", "IntOrString", "Time", "MicroTime", "FieldsV1"   types with their own JSON form
    "ObjectMeta", "PodSpec", ...                   a nested message of this table
    "[]T"                                          repeated T
    "map[string]T"                                 map entries {1: key, 2: value}
    "*T"                                           a zero value is kept (see below)

Go's generated marshallers write every non-pointer field, so a zero on the wire usually means
"unset" and is dropped, as `omitempty` would drop it. Fields marked "*" are Go pointers (or
values Go always prints), where an explicit zero matters: `replicas: 0`, `optional: false`,
`maxUnavailable: 0`. A JSON name of "" marks an embedded struct Go inlines into its parent.
Nested messages present on the wire are kept even when empty (`emptyDir: {}` means something).
Status messages are not listed: clients do not send status, and unlisted fields are skipped.
Proto2 groups (wire types 3 and 4), which Kubernetes never uses, are rejected as malformed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAGIC = b"k8s\x00"
MAX_DEPTH = 64  # nested messages; the deepest kind in the table (CronJob) needs 13

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_EPOCH = dt.datetime(1970, 1, 1)  # naive UTC, which isoformat prints without an offset

# fmt: off
_META: dict[str, dict[int, tuple[str, str]]] = {
    "ObjectMeta": {
        1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
        4: ("selfLink", "string"), 5: ("uid", "string"), 6: ("resourceVersion", "string"),
        7: ("generation", "int64"), 8: ("creationTimestamp", "Time"),
        9: ("deletionTimestamp", "Time"), 10: ("deletionGracePeriodSeconds", "*int64"),
        11: ("labels", "map[string]string"), 12: ("annotations", "map[string]string"),
        13: ("ownerReferences", "[]OwnerReference"), 14: ("finalizers", "[]string"),
        17: ("managedFields", "[]ManagedFieldsEntry"),
    },
    "OwnerReference": {
        5: ("apiVersion", "string"), 1: ("kind", "string"), 3: ("name", "string"),
        4: ("uid", "string"), 6: ("controller", "*bool"), 7: ("blockOwnerDeletion", "*bool"),
    },
    "ManagedFieldsEntry": {
        1: ("manager", "string"), 2: ("operation", "string"), 3: ("apiVersion", "string"),
        4: ("time", "Time"), 6: ("fieldsType", "string"), 7: ("fieldsV1", "FieldsV1"),
        8: ("subresource", "string"),
    },
    "LabelSelector": {
        1: ("matchLabels", "map[string]string"),
        2: ("matchExpressions", "[]LabelSelectorRequirement"),
    },
    "LabelSelectorRequirement": {
        1: ("key", "string"), 2: ("operator", "string"), 3: ("values", "[]string"),
    },
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "*int64"), 2: ("preconditions", "Preconditions"),
        3: ("orphanDependents", "*bool"), 4: ("propagationPolicy", "*string"),
        5: ("dryRun", "[]string"),
        6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "*bool"),
    },
    "Preconditions": {1: ("uid", "*string"), 2: ("resourceVersion", "*string")},
}

_CORE: dict[str, dict[int, tuple[str, str]]] = {
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "[]string")},
    "ConfigMap": {
        1: ("metadata", "ObjectMeta"), 2: ("data", "map[string]string"),
        3: ("binaryData", "map[string]bytes"), 4: ("immutable", "*bool"),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta"), 2: ("data", "map[string]bytes"), 3: ("type", "string"),
        4: ("stringData", "map[string]string"), 5: ("immutable", "*bool"),
    },
    "ServiceAccount": {
        1: ("metadata", "ObjectMeta"), 2: ("secrets", "[]ObjectReference"),
        3: ("imagePullSecrets", "[]LocalObjectReference"),
        4: ("automountServiceAccountToken", "*bool"),
    },
    "Service": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ServiceSpec")},
    "ServiceSpec": {
        1: ("ports", "[]ServicePort"), 2: ("selector", "map[string]string"),
        3: ("clusterIP", "string"), 18: ("clusterIPs", "[]string"), 4: ("type", "string"),
        5: ("externalIPs", "[]string"), 7: ("sessionAffinity", "string"),
        8: ("loadBalancerIP", "string"), 9: ("loadBalancerSourceRanges", "[]string"),
        10: ("externalName", "string"), 11: ("externalTrafficPolicy", "string"),
        12: ("healthCheckNodePort", "int32"), 13: ("publishNotReadyAddresses", "bool"),
        14: ("sessionAffinityConfig", "SessionAffinityConfig"), 19: ("ipFamilies", "[]string"),
        17: ("ipFamilyPolicy", "*string"), 20: ("allocateLoadBalancerNodePorts", "*bool"),
        21: ("loadBalancerClass", "*string"), 22: ("internalTrafficPolicy", "*string"),
        23: ("trafficDistribution", "*string"),
    },
    "ServicePort": {
        1: ("name", "string"), 2: ("protocol", "string"), 6: ("appProtocol", "*string"),
        3: ("port", "int32"), 4: ("targetPort", "IntOrString"), 5: ("nodePort", "int32"),
    },
    "SessionAffinityConfig": {1: ("clientIP", "ClientIPConfig")},
    "ClientIPConfig": {1: ("timeoutSeconds", "*int32")},
    "ResourceQuota": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ResourceQuotaSpec")},
    "ResourceQuotaSpec": {
        1: ("hard", "map[string]Quantity"), 2: ("scopes", "[]string"),
        3: ("scopeSelector", "ScopeSelector"),
    },
    "ScopeSelector": {1: ("matchExpressions", "[]ScopedResourceSelectorRequirement")},
    "ScopedResourceSelectorRequirement": {
        1: ("scopeName", "string"), 2: ("operator", "string"), 3: ("values", "[]string"),
    },
    "PersistentVolumeClaim": {
        1: ("metadata", "ObjectMeta"), 2: ("spec", "PersistentVolumeClaimSpec"),
    },
    "PersistentVolumeClaimSpec": {
        1: ("accessModes", "[]string"), 4: ("selector", "LabelSelector"),
        2: ("resources", "VolumeResourceRequirements"), 3: ("volumeName", "string"),
        5: ("storageClassName", "*string"), 6: ("volumeMode", "*string"),
        7: ("dataSource", "TypedLocalObjectReference"),
        8: ("dataSourceRef", "TypedObjectReference"),
        9: ("volumeAttributesClassName", "*string"),
    },
    "VolumeResourceRequirements": {
        1: ("limits", "map[string]Quantity"), 2: ("requests", "map[string]Quantity"),
    },
    "Event": {
        1: ("metadata", "ObjectMeta"), 2: ("involvedObject", "ObjectReference"),
        3: ("reason", "string"), 4: ("message", "string"), 5: ("source", "EventSource"),
        6: ("firstTimestamp", "Time"), 7: ("lastTimestamp", "Time"), 8: ("count", "int32"),
        9: ("type", "string"), 10: ("eventTime", "MicroTime"), 11: ("series", "EventSeries"),
        12: ("action", "string"), 13: ("related", "ObjectReference"),
        14: ("reportingComponent", "string"), 15: ("reportingInstance", "string"),
    },
    "EventSource": {1: ("component", "string"), 2: ("host", "string")},
    "EventSeries": {1: ("count", "int32"), 2: ("lastObservedTime", "MicroTime")},
    "LocalObjectReference": {1: ("name", "string")},
    "ObjectReference": {
        1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"),
        4: ("uid", "string"), 5: ("apiVersion", "string"), 6: ("resourceVersion", "string"),
        7: ("fieldPath", "string"),
    },
    "TypedLocalObjectReference": {
        1: ("apiGroup", "*string"), 2: ("kind", "string"), 3: ("name", "string"),
    },
    "TypedObjectReference": {
        1: ("apiGroup", "*string"), 2: ("kind", "string"), 3: ("name", "string"),
        4: ("namespace", "*string"),
    },
}

_POD: dict[str, dict[int, tuple[str, str]]] = {
    "Pod": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {
        1: ("volumes", "[]Volume"), 20: ("initContainers", "[]Container"),
        2: ("containers", "[]Container"), 34: ("ephemeralContainers", "[]EphemeralContainer"),
        3: ("restartPolicy", "string"), 4: ("terminationGracePeriodSeconds", "*int64"),
        5: ("activeDeadlineSeconds", "*int64"), 6: ("dnsPolicy", "string"),
        7: ("nodeSelector", "map[string]string"), 8: ("serviceAccountName", "string"),
        9: ("serviceAccount", "string"), 21: ("automountServiceAccountToken", "*bool"),
        10: ("nodeName", "string"), 11: ("hostNetwork", "bool"), 12: ("hostPID", "bool"),
        13: ("hostIPC", "bool"), 27: ("shareProcessNamespace", "*bool"),
        14: ("securityContext", "PodSecurityContext"),
        15: ("imagePullSecrets", "[]LocalObjectReference"), 16: ("hostname", "string"),
        17: ("subdomain", "string"), 18: ("affinity", "Affinity"),
        19: ("schedulerName", "string"), 22: ("tolerations", "[]Toleration"),
        23: ("hostAliases", "[]HostAlias"), 24: ("priorityClassName", "string"),
        25: ("priority", "*int32"), 26: ("dnsConfig", "PodDNSConfig"),
        28: ("readinessGates", "[]PodReadinessGate"), 29: ("runtimeClassName", "*string"),
        30: ("enableServiceLinks", "*bool"), 31: ("preemptionPolicy", "*string"),
        32: ("overhead", "map[string]Quantity"),
        33: ("topologySpreadConstraints", "[]TopologySpreadConstraint"),
        35: ("setHostnameAsFQDN", "*bool"), 36: ("os", "PodOS"), 37: ("hostUsers", "*bool"),
        38: ("schedulingGates", "[]PodSchedulingGate"),
        39: ("resourceClaims", "[]PodResourceClaim"), 40: ("resources", "ResourceRequirements"),
        41: ("hostnameOverride", "*string"),
    },
    "Container": {
        1: ("name", "string"), 2: ("image", "string"), 3: ("command", "[]string"),
        4: ("args", "[]string"), 5: ("workingDir", "string"), 6: ("ports", "[]ContainerPort"),
        19: ("envFrom", "[]EnvFromSource"), 7: ("env", "[]EnvVar"),
        8: ("resources", "ResourceRequirements"),
        23: ("resizePolicy", "[]ContainerResizePolicy"), 24: ("restartPolicy", "*string"),
        25: ("restartPolicyRules", "[]ContainerRestartRule"),
        9: ("volumeMounts", "[]VolumeMount"), 21: ("volumeDevices", "[]VolumeDevice"),
        10: ("livenessProbe", "Probe"), 11: ("readinessProbe", "Probe"),
        22: ("startupProbe", "Probe"), 12: ("lifecycle", "Lifecycle"),
        13: ("terminationMessagePath", "string"), 20: ("terminationMessagePolicy", "string"),
        14: ("imagePullPolicy", "string"), 15: ("securityContext", "SecurityContext"),
        16: ("stdin", "bool"), 17: ("stdinOnce", "bool"), 18: ("tty", "bool"),
    },
    # EphemeralContainerCommon repeats Container's fields under the same numbers.
    "EphemeralContainer": {1: ("", "Container"), 2: ("targetContainerName", "string")},
    "ContainerPort": {
        1: ("name", "string"), 2: ("hostPort", "int32"), 3: ("containerPort", "int32"),
        4: ("protocol", "string"), 5: ("hostIP", "string"),
    },
    "ContainerResizePolicy": {1: ("resourceName", "string"), 2: ("restartPolicy", "string")},
    "ContainerRestartRule": {
        1: ("action", "string"), 2: ("exitCodes", "ContainerRestartRuleOnExitCodes"),
    },
    "ContainerRestartRuleOnExitCodes": {1: ("operator", "string"), 2: ("values", "[]int32")},
    "EnvVar": {1: ("name", "string"), 2: ("value", "string"), 3: ("valueFrom", "EnvVarSource")},
    "EnvVarSource": {
        1: ("fieldRef", "ObjectFieldSelector"), 2: ("resourceFieldRef", "ResourceFieldSelector"),
        3: ("configMapKeyRef", "ConfigMapKeySelector"), 4: ("secretKeyRef", "SecretKeySelector"),
        5: ("fileKeyRef", "FileKeySelector"),
    },
    "ObjectFieldSelector": {1: ("apiVersion", "string"), 2: ("fieldPath", "string")},
    "ResourceFieldSelector": {
        1: ("containerName", "string"), 2: ("resource", "string"), 3: ("divisor", "Quantity"),
    },
    "ConfigMapKeySelector": {
        1: ("", "LocalObjectReference"), 2: ("key", "string"), 3: ("optional", "*bool"),
    },
    "SecretKeySelector": {
        1: ("", "LocalObjectReference"), 2: ("key", "string"), 3: ("optional", "*bool"),
    },
    "FileKeySelector": {
        1: ("volumeName", "string"), 2: ("path", "string"), 3: ("key", "string"),
        4: ("optional", "*bool"),
    },
    "EnvFromSource": {
        1: ("prefix", "string"), 2: ("configMapRef", "ConfigMapEnvSource"),
        3: ("secretRef", "SecretEnvSource"),
    },
    "ConfigMapEnvSource": {1: ("", "LocalObjectReference"), 2: ("optional", "*bool")},
    "SecretEnvSource": {1: ("", "LocalObjectReference"), 2: ("optional", "*bool")},
    "ResourceRequirements": {
        1: ("limits", "map[string]Quantity"), 2: ("requests", "map[string]Quantity"),
        3: ("claims", "[]ResourceClaim"),
    },
    "ResourceClaim": {1: ("name", "string"), 2: ("request", "string")},
    "VolumeMount": {
        1: ("name", "string"), 2: ("readOnly", "bool"), 7: ("recursiveReadOnly", "*string"),
        3: ("mountPath", "string"), 4: ("subPath", "string"),
        5: ("mountPropagation", "*string"), 6: ("subPathExpr", "string"),
    },
    "VolumeDevice": {1: ("name", "string"), 2: ("devicePath", "string")},
    "Probe": {
        1: ("", "ProbeHandler"), 2: ("initialDelaySeconds", "int32"),
        3: ("timeoutSeconds", "int32"), 4: ("periodSeconds", "int32"),
        5: ("successThreshold", "int32"), 6: ("failureThreshold", "int32"),
        7: ("terminationGracePeriodSeconds", "*int64"),
    },
    "ProbeHandler": {
        1: ("exec", "ExecAction"), 2: ("httpGet", "HTTPGetAction"),
        3: ("tcpSocket", "TCPSocketAction"), 4: ("grpc", "GRPCAction"),
    },
    "Lifecycle": {
        1: ("postStart", "LifecycleHandler"), 2: ("preStop", "LifecycleHandler"),
        3: ("stopSignal", "*string"),
    },
    "LifecycleHandler": {
        1: ("exec", "ExecAction"), 2: ("httpGet", "HTTPGetAction"),
        3: ("tcpSocket", "TCPSocketAction"), 4: ("sleep", "SleepAction"),
    },
    "ExecAction": {1: ("command", "[]string")},
    "HTTPGetAction": {
        1: ("path", "string"), 2: ("port", "IntOrString"), 3: ("host", "string"),
        4: ("scheme", "string"), 5: ("httpHeaders", "[]HTTPHeader"),
    },
    "HTTPHeader": {1: ("name", "string"), 2: ("value", "string")},
    "TCPSocketAction": {1: ("port", "IntOrString"), 2: ("host", "string")},
    "GRPCAction": {1: ("port", "int32"), 2: ("service", "*string")},
    "SleepAction": {1: ("seconds", "*int64")},
    "SecurityContext": {
        1: ("capabilities", "Capabilities"), 2: ("privileged", "*bool"),
        3: ("seLinuxOptions", "SELinuxOptions"),
        10: ("windowsOptions", "WindowsSecurityContextOptions"), 4: ("runAsUser", "*int64"),
        8: ("runAsGroup", "*int64"), 5: ("runAsNonRoot", "*bool"),
        6: ("readOnlyRootFilesystem", "*bool"), 7: ("allowPrivilegeEscalation", "*bool"),
        9: ("procMount", "*string"), 11: ("seccompProfile", "SeccompProfile"),
        12: ("appArmorProfile", "AppArmorProfile"),
    },
    "PodSecurityContext": {
        1: ("seLinuxOptions", "SELinuxOptions"),
        8: ("windowsOptions", "WindowsSecurityContextOptions"), 2: ("runAsUser", "*int64"),
        6: ("runAsGroup", "*int64"), 3: ("runAsNonRoot", "*bool"),
        4: ("supplementalGroups", "[]int64"), 12: ("supplementalGroupsPolicy", "*string"),
        5: ("fsGroup", "*int64"), 7: ("sysctls", "[]Sysctl"),
        9: ("fsGroupChangePolicy", "*string"), 10: ("seccompProfile", "SeccompProfile"),
        11: ("appArmorProfile", "AppArmorProfile"), 13: ("seLinuxChangePolicy", "*string"),
    },
    "Capabilities": {1: ("add", "[]string"), 2: ("drop", "[]string")},
    "SELinuxOptions": {
        1: ("user", "string"), 2: ("role", "string"), 3: ("type", "string"),
        4: ("level", "string"),
    },
    "WindowsSecurityContextOptions": {
        1: ("gmsaCredentialSpecName", "*string"), 2: ("gmsaCredentialSpec", "*string"),
        3: ("runAsUserName", "*string"), 4: ("hostProcess", "*bool"),
    },
    "SeccompProfile": {1: ("type", "string"), 2: ("localhostProfile", "*string")},
    "AppArmorProfile": {1: ("type", "string"), 2: ("localhostProfile", "*string")},
    "Sysctl": {1: ("name", "string"), 2: ("value", "string")},
    "Toleration": {
        1: ("key", "string"), 2: ("operator", "string"), 3: ("value", "string"),
        4: ("effect", "string"), 5: ("tolerationSeconds", "*int64"),
    },
    "Affinity": {
        1: ("nodeAffinity", "NodeAffinity"), 2: ("podAffinity", "PodAffinity"),
        3: ("podAntiAffinity", "PodAffinity"),  # PodAntiAffinity has the same fields
    },
    "NodeAffinity": {
        1: ("requiredDuringSchedulingIgnoredDuringExecution", "NodeSelector"),
        2: ("preferredDuringSchedulingIgnoredDuringExecution", "[]PreferredSchedulingTerm"),
    },
    "NodeSelector": {1: ("nodeSelectorTerms", "[]NodeSelectorTerm")},
    "NodeSelectorTerm": {
        1: ("matchExpressions", "[]NodeSelectorRequirement"),
        2: ("matchFields", "[]NodeSelectorRequirement"),
    },
    "NodeSelectorRequirement": {
        1: ("key", "string"), 2: ("operator", "string"), 3: ("values", "[]string"),
    },
    "PreferredSchedulingTerm": {1: ("weight", "int32"), 2: ("preference", "NodeSelectorTerm")},
    "PodAffinity": {
        1: ("requiredDuringSchedulingIgnoredDuringExecution", "[]PodAffinityTerm"),
        2: ("preferredDuringSchedulingIgnoredDuringExecution", "[]WeightedPodAffinityTerm"),
    },
    "PodAffinityTerm": {
        1: ("labelSelector", "LabelSelector"), 2: ("namespaces", "[]string"),
        3: ("topologyKey", "string"), 4: ("namespaceSelector", "LabelSelector"),
        5: ("matchLabelKeys", "[]string"), 6: ("mismatchLabelKeys", "[]string"),
    },
    "WeightedPodAffinityTerm": {1: ("weight", "int32"), 2: ("podAffinityTerm", "PodAffinityTerm")},
    "HostAlias": {1: ("ip", "string"), 2: ("hostnames", "[]string")},
    "PodDNSConfig": {
        1: ("nameservers", "[]string"), 2: ("searches", "[]string"),
        3: ("options", "[]PodDNSConfigOption"),
    },
    "PodDNSConfigOption": {1: ("name", "string"), 2: ("value", "*string")},
    "PodReadinessGate": {1: ("conditionType", "string")},
    "TopologySpreadConstraint": {
        1: ("maxSkew", "int32"), 2: ("topologyKey", "string"),
        3: ("whenUnsatisfiable", "string"), 4: ("labelSelector", "LabelSelector"),
        5: ("minDomains", "*int32"), 6: ("nodeAffinityPolicy", "*string"),
        7: ("nodeTaintsPolicy", "*string"), 8: ("matchLabelKeys", "[]string"),
    },
    "PodOS": {1: ("name", "string")},
    "PodSchedulingGate": {1: ("name", "string")},
    "PodResourceClaim": {
        1: ("name", "string"), 3: ("resourceClaimName", "*string"),
        4: ("resourceClaimTemplateName", "*string"),
    },
    # VolumeSource is inlined into Volume; the deprecated in-tree cloud drivers are not listed.
    "Volume": {1: ("name", "string"), 2: ("", "VolumeSource")},
    "VolumeSource": {
        1: ("hostPath", "HostPathVolumeSource"), 2: ("emptyDir", "EmptyDirVolumeSource"),
        6: ("secret", "SecretVolumeSource"), 7: ("nfs", "NFSVolumeSource"),
        10: ("persistentVolumeClaim", "PersistentVolumeClaimVolumeSource"),
        16: ("downwardAPI", "DownwardAPIVolumeSource"),
        19: ("configMap", "ConfigMapVolumeSource"), 26: ("projected", "ProjectedVolumeSource"),
        28: ("csi", "CSIVolumeSource"), 29: ("ephemeral", "EphemeralVolumeSource"),
        30: ("image", "ImageVolumeSource"),
    },
    "HostPathVolumeSource": {1: ("path", "string"), 2: ("type", "*string")},
    "EmptyDirVolumeSource": {1: ("medium", "string"), 2: ("sizeLimit", "*Quantity")},
    "SecretVolumeSource": {
        1: ("secretName", "string"), 2: ("items", "[]KeyToPath"), 3: ("defaultMode", "*int32"),
        4: ("optional", "*bool"),
    },
    "ConfigMapVolumeSource": {
        1: ("", "LocalObjectReference"), 2: ("items", "[]KeyToPath"),
        3: ("defaultMode", "*int32"), 4: ("optional", "*bool"),
    },
    "KeyToPath": {1: ("key", "string"), 2: ("path", "string"), 3: ("mode", "*int32")},
    "NFSVolumeSource": {1: ("server", "string"), 2: ("path", "string"), 3: ("readOnly", "bool")},
    "PersistentVolumeClaimVolumeSource": {1: ("claimName", "string"), 2: ("readOnly", "bool")},
    "DownwardAPIVolumeSource": {
        1: ("items", "[]DownwardAPIVolumeFile"), 2: ("defaultMode", "*int32"),
    },
    "DownwardAPIVolumeFile": {
        1: ("path", "string"), 2: ("fieldRef", "ObjectFieldSelector"),
        3: ("resourceFieldRef", "ResourceFieldSelector"), 4: ("mode", "*int32"),
    },
    "ProjectedVolumeSource": {1: ("sources", "[]VolumeProjection"), 2: ("defaultMode", "*int32")},
    "VolumeProjection": {
        1: ("secret", "SecretProjection"), 2: ("downwardAPI", "DownwardAPIProjection"),
        3: ("configMap", "ConfigMapProjection"),
        4: ("serviceAccountToken", "ServiceAccountTokenProjection"),
        5: ("clusterTrustBundle", "ClusterTrustBundleProjection"),
    },
    "SecretProjection": {
        1: ("", "LocalObjectReference"), 2: ("items", "[]KeyToPath"), 4: ("optional", "*bool"),
    },
    "ConfigMapProjection": {
        1: ("", "LocalObjectReference"), 2: ("items", "[]KeyToPath"), 4: ("optional", "*bool"),
    },
    "DownwardAPIProjection": {1: ("items", "[]DownwardAPIVolumeFile")},
    "ServiceAccountTokenProjection": {
        1: ("audience", "string"), 2: ("expirationSeconds", "*int64"), 3: ("path", "string"),
    },
    "ClusterTrustBundleProjection": {
        1: ("name", "*string"), 2: ("signerName", "*string"),
        3: ("labelSelector", "LabelSelector"), 5: ("optional", "*bool"), 4: ("path", "string"),
    },
    "CSIVolumeSource": {
        1: ("driver", "string"), 2: ("readOnly", "*bool"), 3: ("fsType", "*string"),
        4: ("volumeAttributes", "map[string]string"),
        5: ("nodePublishSecretRef", "LocalObjectReference"),
    },
    "EphemeralVolumeSource": {1: ("volumeClaimTemplate", "PersistentVolumeClaimTemplate")},
    "PersistentVolumeClaimTemplate": {
        1: ("metadata", "ObjectMeta"), 2: ("spec", "PersistentVolumeClaimSpec"),
    },
    "ImageVolumeSource": {1: ("reference", "string"), 2: ("pullPolicy", "string")},
}

_APPS: dict[str, dict[int, tuple[str, str]]] = {
    "Deployment": {1: ("metadata", "ObjectMeta"), 2: ("spec", "DeploymentSpec")},
    "DeploymentSpec": {
        1: ("replicas", "*int32"), 2: ("selector", "LabelSelector"),
        3: ("template", "PodTemplateSpec"), 4: ("strategy", "DeploymentStrategy"),
        5: ("minReadySeconds", "int32"), 6: ("revisionHistoryLimit", "*int32"),
        7: ("paused", "bool"), 9: ("progressDeadlineSeconds", "*int32"),
        10: ("podReplacementPolicy", "*string"),
    },
    "DeploymentStrategy": {1: ("type", "string"), 2: ("rollingUpdate", "RollingUpdateDeployment")},
    "RollingUpdateDeployment": {
        1: ("maxUnavailable", "*IntOrString"), 2: ("maxSurge", "*IntOrString"),
    },
    "StatefulSet": {1: ("metadata", "ObjectMeta"), 2: ("spec", "StatefulSetSpec")},
    "StatefulSetSpec": {
        1: ("replicas", "*int32"), 2: ("selector", "LabelSelector"),
        3: ("template", "PodTemplateSpec"),
        4: ("volumeClaimTemplates", "[]PersistentVolumeClaim"), 5: ("serviceName", "string"),
        6: ("podManagementPolicy", "string"), 7: ("updateStrategy", "StatefulSetUpdateStrategy"),
        8: ("revisionHistoryLimit", "*int32"), 9: ("minReadySeconds", "int32"),
        10: ("persistentVolumeClaimRetentionPolicy",
             "StatefulSetPersistentVolumeClaimRetentionPolicy"),
        11: ("ordinals", "StatefulSetOrdinals"),
    },
    "StatefulSetUpdateStrategy": {
        1: ("type", "string"), 2: ("rollingUpdate", "RollingUpdateStatefulSetStrategy"),
    },
    "RollingUpdateStatefulSetStrategy": {
        1: ("partition", "*int32"), 2: ("maxUnavailable", "*IntOrString"),
    },
    "StatefulSetPersistentVolumeClaimRetentionPolicy": {
        1: ("whenDeleted", "string"), 2: ("whenScaled", "string"),
    },
    "StatefulSetOrdinals": {1: ("start", "int32")},
    "DaemonSet": {1: ("metadata", "ObjectMeta"), 2: ("spec", "DaemonSetSpec")},
    "DaemonSetSpec": {
        1: ("selector", "LabelSelector"), 2: ("template", "PodTemplateSpec"),
        3: ("updateStrategy", "DaemonSetUpdateStrategy"), 4: ("minReadySeconds", "int32"),
        6: ("revisionHistoryLimit", "*int32"),
    },
    "DaemonSetUpdateStrategy": {
        1: ("type", "string"), 2: ("rollingUpdate", "RollingUpdateDaemonSet"),
    },
    "RollingUpdateDaemonSet": {
        1: ("maxUnavailable", "*IntOrString"), 2: ("maxSurge", "*IntOrString"),
    },
    "ReplicaSet": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ReplicaSetSpec")},
    "ReplicaSetSpec": {
        1: ("replicas", "*int32"), 4: ("minReadySeconds", "int32"),
        2: ("selector", "LabelSelector"), 3: ("template", "PodTemplateSpec"),
    },
}

_BATCH: dict[str, dict[int, tuple[str, str]]] = {
    "Job": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec")},
    "JobSpec": {
        1: ("parallelism", "*int32"), 2: ("completions", "*int32"),
        3: ("activeDeadlineSeconds", "*int64"), 11: ("podFailurePolicy", "PodFailurePolicy"),
        16: ("successPolicy", "SuccessPolicy"), 7: ("backoffLimit", "*int32"),
        12: ("backoffLimitPerIndex", "*int32"), 13: ("maxFailedIndexes", "*int32"),
        4: ("selector", "LabelSelector"), 5: ("manualSelector", "*bool"),
        6: ("template", "PodTemplateSpec"), 8: ("ttlSecondsAfterFinished", "*int32"),
        9: ("completionMode", "*string"), 10: ("suspend", "*bool"),
        14: ("podReplacementPolicy", "*string"), 15: ("managedBy", "*string"),
    },
    "PodFailurePolicy": {1: ("rules", "[]PodFailurePolicyRule")},
    "PodFailurePolicyRule": {
        1: ("action", "string"), 2: ("onExitCodes", "PodFailurePolicyOnExitCodesRequirement"),
        3: ("onPodConditions", "[]PodFailurePolicyOnPodConditionsPattern"),
    },
    "PodFailurePolicyOnExitCodesRequirement": {
        1: ("containerName", "*string"), 2: ("operator", "string"), 3: ("values", "[]int32"),
    },
    "PodFailurePolicyOnPodConditionsPattern": {1: ("type", "string"), 2: ("status", "string")},
    "SuccessPolicy": {1: ("rules", "[]SuccessPolicyRule")},
    "SuccessPolicyRule": {1: ("succeededIndexes", "*string"), 2: ("succeededCount", "*int32")},
    "CronJob": {1: ("metadata", "ObjectMeta"), 2: ("spec", "CronJobSpec")},
    "CronJobSpec": {
        1: ("schedule", "string"), 8: ("timeZone", "*string"),
        2: ("startingDeadlineSeconds", "*int64"), 3: ("concurrencyPolicy", "string"),
        4: ("suspend", "*bool"), 5: ("jobTemplate", "JobTemplateSpec"),
        6: ("successfulJobsHistoryLimit", "*int32"), 7: ("failedJobsHistoryLimit", "*int32"),
    },
    "JobTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec")},
}

_OTHER: dict[str, dict[int, tuple[str, str]]] = {
    # policy/v1
    "Eviction": {1: ("metadata", "ObjectMeta"), 2: ("deleteOptions", "DeleteOptions")},
    "PodDisruptionBudget": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodDisruptionBudgetSpec")},
    "PodDisruptionBudgetSpec": {
        1: ("minAvailable", "*IntOrString"), 2: ("selector", "LabelSelector"),
        3: ("maxUnavailable", "*IntOrString"), 4: ("unhealthyPodEvictionPolicy", "*string"),
    },
    # networking.k8s.io/v1
    "Ingress": {1: ("metadata", "ObjectMeta"), 2: ("spec", "IngressSpec")},
    "IngressSpec": {
        4: ("ingressClassName", "*string"), 1: ("defaultBackend", "IngressBackend"),
        2: ("tls", "[]IngressTLS"), 3: ("rules", "[]IngressRule"),
    },
    "IngressBackend": {
        4: ("service", "IngressServiceBackend"), 3: ("resource", "TypedLocalObjectReference"),
    },
    "IngressServiceBackend": {1: ("name", "string"), 2: ("port", "ServiceBackendPort")},
    "ServiceBackendPort": {1: ("name", "string"), 2: ("number", "int32")},
    "IngressTLS": {1: ("hosts", "[]string"), 2: ("secretName", "string")},
    "IngressRule": {1: ("host", "string"), 2: ("", "IngressRuleValue")},
    "IngressRuleValue": {1: ("http", "HTTPIngressRuleValue")},
    "HTTPIngressRuleValue": {1: ("paths", "[]HTTPIngressPath")},
    "HTTPIngressPath": {
        1: ("path", "string"), 3: ("pathType", "*string"), 2: ("backend", "IngressBackend"),
    },
    # rbac.authorization.k8s.io/v1
    "Role": {1: ("metadata", "ObjectMeta"), 2: ("rules", "[]PolicyRule")},
    "ClusterRole": {
        1: ("metadata", "ObjectMeta"), 2: ("rules", "[]PolicyRule"),
        3: ("aggregationRule", "AggregationRule"),
    },
    "AggregationRule": {1: ("clusterRoleSelectors", "[]LabelSelector")},
    "PolicyRule": {
        1: ("verbs", "[]string"), 2: ("apiGroups", "[]string"), 3: ("resources", "[]string"),
        4: ("resourceNames", "[]string"), 5: ("nonResourceURLs", "[]string"),
    },
    "RoleBinding": {
        1: ("metadata", "ObjectMeta"), 2: ("subjects", "[]Subject"), 3: ("roleRef", "RoleRef"),
    },
    "Subject": {
        1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"),
        4: ("namespace", "string"),
    },
    "RoleRef": {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")},
    # authorization.k8s.io/v1
    "SelfSubjectAccessReview": {
        1: ("metadata", "ObjectMeta"), 2: ("spec", "SelfSubjectAccessReviewSpec"),
    },
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes"),
        2: ("nonResourceAttributes", "NonResourceAttributes"),
    },
    "ResourceAttributes": {
        1: ("namespace", "string"), 2: ("verb", "string"), 3: ("group", "string"),
        4: ("version", "string"), 5: ("resource", "string"), 6: ("subresource", "string"),
        7: ("name", "string"), 8: ("fieldSelector", "FieldSelectorAttributes"),
        9: ("labelSelector", "LabelSelectorAttributes"),
    },
    "FieldSelectorAttributes": {
        1: ("rawSelector", "string"), 2: ("requirements", "[]FieldSelectorRequirement"),
    },
    "FieldSelectorRequirement": {
        1: ("key", "string"), 2: ("operator", "string"), 3: ("values", "[]string"),
    },
    "LabelSelectorAttributes": {
        1: ("rawSelector", "string"), 2: ("requirements", "[]LabelSelectorRequirement"),
    },
    "NonResourceAttributes": {1: ("path", "string"), 2: ("verb", "string")},
    "SelfSubjectRulesReview": {
        1: ("metadata", "ObjectMeta"), 2: ("spec", "SelfSubjectRulesReviewSpec"),
    },
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "string")},
    # authentication.k8s.io/v1
    "TokenRequest": {1: ("metadata", "ObjectMeta"), 2: ("spec", "TokenRequestSpec")},
    "TokenRequestSpec": {
        1: ("audiences", "[]string"), 4: ("expirationSeconds", "*int64"),
        3: ("boundObjectRef", "BoundObjectReference"),
    },
    "BoundObjectReference": {
        1: ("kind", "string"), 2: ("apiVersion", "string"), 3: ("name", "string"),
        4: ("uid", "string"),
    },
    # scheduling.k8s.io/v1; Go prints value even when zero
    "PriorityClass": {
        1: ("metadata", "ObjectMeta"), 2: ("value", "*int32"), 3: ("globalDefault", "bool"),
        4: ("description", "string"), 5: ("preemptionPolicy", "*string"),
    },
}

# The top-level message for each (apiVersion, kind); DeleteOptions is accepted in any version.
KINDS: dict[tuple[str, str], str] = {
    **{("v1", k): k for k in ("Namespace", "ConfigMap", "Secret", "Service", "ServiceAccount",
                              "ResourceQuota", "Pod", "PersistentVolumeClaim", "Event")},
    **{("apps/v1", k): k for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")},
    **{("batch/v1", k): k for k in ("Job", "CronJob")},
    **{("policy/v1", k): k for k in ("Eviction", "PodDisruptionBudget")},
    ("networking.k8s.io/v1", "Ingress"): "Ingress",
    ("rbac.authorization.k8s.io/v1", "Role"): "Role",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "ClusterRole",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "RoleBinding",  # same fields
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): "SelfSubjectAccessReview",
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): "SelfSubjectRulesReview",
    ("authentication.k8s.io/v1", "TokenRequest"): "TokenRequest",
    ("scheduling.k8s.io/v1", "PriorityClass"): "PriorityClass",
}
# fmt: on

_SCALARS = {"string", "bytes", "bool", "int32", "int64"}
_VARINT_KINDS = {"bool", "int32", "int64"}


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # JSON name; "" inlines the message's fields into the parent
    kind: str  # a scalar, a special type or a message name
    repeated: bool = False
    is_map: bool = False
    keep_zero: bool = False


def _field(name: str, spec: str) -> _Field:
    keep_zero = spec.startswith("*")
    spec = spec.removeprefix("*")
    if spec.startswith("[]"):
        return _Field(name, spec[2:], repeated=True)
    if spec.startswith("map[string]"):
        return _Field(name, spec.removeprefix("map[string]"), is_map=True)
    return _Field(name, spec, keep_zero=keep_zero)


MESSAGES: dict[str, dict[int, _Field]] = {
    message: {number: _field(*spec) for number, spec in fields.items()}
    for table in (_META, _CORE, _POD, _APPS, _BATCH, _OTHER)
    for message, fields in table.items()
}


def decode(body: bytes) -> dict[str, Any]:
    """The JSON object for a `application/vnd.kubernetes.protobuf` body.

    Raises ValueError for a malformed body or a kind this module has no schema for.
    """
    if not body.startswith(MAGIC):
        raise ValueError("not a Kubernetes protobuf body: it lacks the k8s\\x00 prefix")
    unknown = _last(memoryview(body)[len(MAGIC) :])
    type_meta = _last(_get(unknown, 1, _LEN, "runtime.Unknown typeMeta", memoryview(b"")))
    api_version = _text(_get(type_meta, 1, _LEN, "typeMeta apiVersion", b""))
    kind = _text(_get(type_meta, 2, _LEN, "typeMeta kind", b""))
    encoding = _text(_get(unknown, 3, _LEN, "runtime.Unknown contentEncoding", b""))
    content_type = _text(_get(unknown, 4, _LEN, "runtime.Unknown contentType", b""))
    if encoding:
        raise ValueError(f"unsupported protobuf contentEncoding {encoding!r}")
    if content_type not in ("", "application/vnd.kubernetes.protobuf"):
        raise ValueError(f"unsupported protobuf contentType {content_type!r}")
    if not kind:
        raise ValueError("protobuf body has no kind in its typeMeta")
    message = "DeleteOptions" if kind == "DeleteOptions" else KINDS.get((api_version, kind))
    if message is None:
        raise ValueError(f"no protobuf decoding for {api_version or '(no apiVersion)'} {kind}")
    raw = _get(unknown, 2, _LEN, "runtime.Unknown raw", memoryview(b""))
    return {"apiVersion": api_version, "kind": kind, **_message(raw, message, 1)}


def _message(buf: memoryview, name: str, depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise ValueError(f"protobuf messages nested deeper than {MAX_DEPTH}")
    schema = MESSAGES[name]
    seen: dict[int, list[tuple[int, Any]]] = {}
    for number, wire, value in _fields(buf):
        if number in schema:  # anything else (status, fields newer than this table) is skipped
            seen.setdefault(number, []).append((wire, value))
    out: dict[str, Any] = {}
    for number, field in schema.items():
        if number in seen:
            where = f"{name} field {number} ({field.name or field.kind})"
            _put(out, field, seen[number], where, depth)
    return out


def _put(
    out: dict[str, Any], field: _Field, values: list[tuple[int, Any]], where: str, depth: int
) -> None:
    if field.is_map:
        entries = out.setdefault(field.name, {})
        for wire, value in values:
            entry = _last(_expect(wire, value, _LEN, where))
            key = _text(_get(entry, 1, _LEN, where, b""))
            item = entry.get(2, (_LEN, memoryview(b"")))
            entries[key] = _value(field.kind, *item, where, depth)
    elif field.repeated:
        items = out.setdefault(field.name, [])
        for wire, value in values:
            if wire == _LEN and field.kind in _VARINT_KINDS:  # packed encoding
                items.extend(_scalar(field.kind, _VARINT, v, where) for v in _varints(value))
            else:
                items.append(_value(field.kind, wire, value, where, depth))
    elif field.kind in MESSAGES:
        # A message field repeated on the wire is merged, the same as decoding the concatenation.
        joined = b"".join(_expect(wire, value, _LEN, where) for wire, value in values)
        decoded = _message(memoryview(joined), field.kind, depth + 1)
        if field.name:
            out[field.name] = decoded
        else:
            out.update(decoded)
    else:
        # Every occurrence is checked; the last one wins.
        decoded = [_value(field.kind, wire, value, where, depth) for wire, value in values][-1]
        if field.keep_zero or not _is_zero(field.kind, decoded):
            out[field.name] = decoded


def _is_zero(kind: str, value: Any) -> bool:
    return value is None or value in ("", 0) or (kind == "Quantity" and value == "0")


def _value(kind: str, wire: int, value: Any, where: str, depth: int) -> Any:
    if kind in _SCALARS:
        return _scalar(kind, wire, value, where)
    buf = _expect(wire, value, _LEN, where)
    if kind == "Quantity":
        return _text(_get(_last(buf), 1, _LEN, where, b"0"))
    if kind == "IntOrString":
        return _int_or_string(_last(buf), where)
    if kind in ("Time", "MicroTime"):
        return _time(buf, kind == "MicroTime", where)
    if kind == "FieldsV1":
        try:
            return json.loads(bytes(_get(_last(buf), 1, _LEN, where, b"null")))
        except ValueError as err:
            raise ValueError(f"{where}: fieldsV1 is not JSON") from err
    return _message(buf, kind, depth + 1)


def _scalar(kind: str, wire: int, value: Any, where: str) -> Any:
    if kind in ("string", "bytes"):
        data = _expect(wire, value, _LEN, where)
        return _text(data) if kind == "string" else base64.b64encode(data).decode()
    number = _expect(wire, value, _VARINT, where)
    if kind == "bool":
        return number != 0
    bits = 32 if kind == "int32" else 64
    number &= (1 << bits) - 1
    return number - (1 << bits) if number >> (bits - 1) else number


def _int_or_string(fields: dict[int, tuple[int, Any]], where: str) -> int | str:
    kind = _scalar("int64", *fields.get(1, (_VARINT, 0)), where)
    if kind == 0:
        return _scalar("int32", *fields.get(2, (_VARINT, 0)), where)
    if kind == 1:
        return _scalar("string", *fields.get(3, (_LEN, b"")), where)
    raise ValueError(f"{where}: IntOrString type {kind} is neither 0 (int) nor 1 (string)")


def _time(buf: memoryview, micro: bool, where: str) -> str | None:
    if not len(buf):
        return None  # Go's zero time, which it prints as null
    fields = _last(buf)
    seconds = _scalar("int64", *fields.get(1, (_VARINT, 0)), where)
    nanos = _scalar("int32", *fields.get(2, (_VARINT, 0)), where) if micro else 0
    try:
        moment = _EPOCH + dt.timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError as err:
        raise ValueError(f"{where}: time {seconds}s is out of range") from err
    return moment.isoformat(timespec="microseconds" if micro else "seconds") + "Z"


# --- the wire format ---------------------------------------------------------------------------


def _fields(buf: memoryview) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) for each field: an int, or a memoryview of the bytes."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError(f"protobuf field number 0 at byte {pos}")
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire in (_I64, _I32):
            size = 8 if wire == _I64 else 4
            if size > end - pos:
                raise ValueError(
                    f"protobuf field {number} is truncated: fixed {size} bytes, {end - pos} left"
                )
            value, pos = int.from_bytes(buf[pos : pos + size], "little"), pos + size
        elif wire == _LEN:
            size, pos = _varint(buf, pos)
            if size > end - pos:
                raise ValueError(
                    f"protobuf field {number} is truncated: {size} bytes declared, {end - pos} left"
                )
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} for field {number}")
        yield number, wire, value


def _last(buf: memoryview) -> dict[int, tuple[int, Any]]:
    """The last (wire type, value) of each field of a small message."""
    return {number: (wire, value) for number, wire, value in _fields(buf)}


def _get(
    fields: dict[int, tuple[int, Any]], number: int, wire: int, where: str, default: Any
) -> Any:
    return _expect(*fields[number], wire, where) if number in fields else default


def _varints(buf: memoryview) -> Iterator[int]:
    """The elements of a packed repeated varint field."""
    pos = 0
    while pos < len(buf):
        value, pos = _varint(buf, pos)
        yield value


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    for i in range(pos, min(pos + 10, len(buf))):
        byte = buf[i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & ((1 << 64) - 1), i + 1
        shift += 7
    if len(buf) - pos >= 10:
        raise ValueError(f"protobuf varint longer than 10 bytes at byte {pos}")
    raise ValueError(f"truncated protobuf varint at byte {pos}")


def _expect(wire: int, value: Any, expected: int, where: str) -> Any:
    if wire != expected:
        raise ValueError(f"{where}: protobuf wire type {wire}, expected {expected}")
    return value


def _text(data: bytes | memoryview) -> str:
    return bytes(data).decode("utf-8", errors="replace")
