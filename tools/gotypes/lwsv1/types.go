// Package lwsv1 transcribes the revision-relevant part of the LeaderWorkerSet v1 Go API
// (sigs.k8s.io/lws/api/leaderworkerset/v1) from the behavioural spec (LWS-SPEC.md §1.4 and §5.4.3).
//
// They follow v0.10.0, whose source archive the module proxy refuses (v0.6.2–v0.9.0 are served), so these
// structs are written from the spec text: field JSON names, omitempty and pointer-ness are what the spec
// states. Only types that appear in a ControllerRevision (spec.leaderWorkerTemplate and spec.networkConfig)
// are here. tests/oracle/upstream runs v0.9.0's real types and revision code over the same fixtures; their
// revision-relevant fields are the same as these.
package lwsv1

import (
	corev1 "k8s.io/api/core/v1"
)

// LeaderWorkerTemplate is spec.leaderWorkerTemplate.
type LeaderWorkerTemplate struct {
	LeaderTemplate                       *corev1.PodTemplateSpec               `json:"leaderTemplate,omitempty"`
	WorkerTemplate                       corev1.PodTemplateSpec                `json:"workerTemplate"`
	Size                                 *int32                                `json:"size,omitempty"`
	RestartPolicy                        string                                `json:"restartPolicy,omitempty"`
	SubGroupPolicy                       *SubGroupPolicy                       `json:"subGroupPolicy,omitempty"`
	VolumeClaimTemplates                 []corev1.PersistentVolumeClaim        `json:"volumeClaimTemplates,omitempty"`
	PersistentVolumeClaimRetentionPolicy *PersistentVolumeClaimRetentionPolicy `json:"persistentVolumeClaimRetentionPolicy,omitempty"`
}

// SubGroupPolicy is spec.leaderWorkerTemplate.subGroupPolicy.
type SubGroupPolicy struct {
	Type         *string `json:"subGroupPolicyType,omitempty"`
	SubGroupSize *int32  `json:"subGroupSize,omitempty"`
}

// PersistentVolumeClaimRetentionPolicy is spec.leaderWorkerTemplate.persistentVolumeClaimRetentionPolicy
// (same JSON shape as apps/v1 StatefulSetPersistentVolumeClaimRetentionPolicy).
type PersistentVolumeClaimRetentionPolicy struct {
	WhenDeleted string `json:"whenDeleted,omitempty"`
	WhenScaled  string `json:"whenScaled,omitempty"`
}

// NetworkConfig is spec.networkConfig. SubdomainPolicy has no omitempty: a nil pointer encodes as null.
type NetworkConfig struct {
	SubdomainPolicy *string `json:"subdomainPolicy"`
}
