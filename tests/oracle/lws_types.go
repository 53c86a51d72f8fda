package main

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"lwsdeno.local/tools/gotypes/lwsv1"
)

// The LeaderWorkerSet v1 API (sigs.k8s.io/lws/api/leaderworkerset/v1), transcribed from LWS-SPEC.md §1.4 and
// §5.4.3 (v0.10.0, whose source archive the module proxy refuses; upstream/ imports v0.9.0's real types and
// revision code and is compared with this oracle's output — see README.md). The revision
// subtrees use the same lwsv1 types the normalisation-table generator reflects (tools/gotypes/lwsv1), so the
// oracle and the generated table cannot disagree about them; the core/v1 types inside are the real ones.

type LeaderWorkerSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec LeaderWorkerSetSpec `json:"spec,omitempty"`
}

type LeaderWorkerSetSpec struct {
	Replicas             *int32                     `json:"replicas,omitempty"`
	LeaderWorkerTemplate lwsv1.LeaderWorkerTemplate `json:"leaderWorkerTemplate"`
	RolloutStrategy      RolloutStrategy            `json:"rolloutStrategy,omitempty"`
	StartupPolicy        string                     `json:"startupPolicy,omitempty"`
	NetworkConfig        *lwsv1.NetworkConfig       `json:"networkConfig,omitempty"`
}

type RolloutStrategy struct {
	Type                       string                      `json:"type,omitempty"`
	RollingUpdateConfiguration *RollingUpdateConfiguration `json:"rollingUpdateConfiguration,omitempty"`
}

type RollingUpdateConfiguration struct {
	Partition      *int32             `json:"partition,omitempty"`
	MaxUnavailable intstr.IntOrString `json:"maxUnavailable,omitempty"`
	MaxSurge       intstr.IntOrString `json:"maxSurge,omitempty"`
}
