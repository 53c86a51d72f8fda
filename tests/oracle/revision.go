package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"

	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"lwsdeno.local/tools/gotypes/lwsv1"
)

// getPatch mirrors upstream's revision patch (pkg/utils/revision, modelled on the StatefulSet controller's
// history code): encode the typed LWS with encoding/json, decode into a generic map, keep only
// spec.leaderWorkerTemplate and spec.networkConfig (defaulted to Shared when nil), mark both subtrees
// "$patch": "replace", and json.Marshal the map (sorted keys, HTML escaping).
func getPatch(lws *LeaderWorkerSet) ([]byte, error) {
	clone := *lws
	if clone.Spec.NetworkConfig == nil {
		shared := "Shared"
		clone.Spec.NetworkConfig = &lwsv1.NetworkConfig{SubdomainPolicy: &shared}
	}
	str := &bytes.Buffer{}
	if err := json.NewEncoder(str).Encode(&clone); err != nil {
		return nil, err
	}
	var raw map[string]interface{}
	if err := json.Unmarshal(str.Bytes(), &raw); err != nil {
		return nil, err
	}
	spec := raw["spec"].(map[string]interface{})
	template := spec["leaderWorkerTemplate"].(map[string]interface{})
	networkConfig := spec["networkConfig"].(map[string]interface{})
	template["$patch"] = "replace"
	networkConfig["$patch"] = "replace"
	obj := map[string]interface{}{
		"spec": map[string]interface{}{
			"leaderWorkerTemplate": template,
			"networkConfig":        networkConfig,
		},
	}
	return json.Marshal(obj)
}

// hashData is the Kubernetes controller-history hash (HashControllerRevision without a collision probe):
// FNV-1 32 over the raw data, printed in decimal, then rand.SafeEncodeString.
func hashData(data []byte) string {
	hf := fnv.New32()
	hf.Write(data)
	return rand.SafeEncodeString(fmt.Sprint(hf.Sum32()))
}

// applyRevision restores the LWS a revision was taken from: a strategic merge patch of the revision data
// onto the live object, decoded back into the typed struct.
func applyRevision(lws *LeaderWorkerSet, data []byte) (*LeaderWorkerSet, error) {
	original, err := json.Marshal(lws)
	if err != nil {
		return nil, err
	}
	patched, err := strategicpatch.StrategicMergePatch(original, data, lws)
	if err != nil {
		return nil, err
	}
	restored := &LeaderWorkerSet{}
	if err := json.Unmarshal(patched, restored); err != nil {
		return nil, err
	}
	return restored, nil
}

// templateUnchanged is spec §7.3 step 5: stored data (re-serialised canonically) equals the candidate bytes,
// or the LWS rebuilt from the revision serialises to the candidate bytes.
func templateUnchanged(lws *LeaderWorkerSet, stored []byte) (bool, error) {
	candidate, err := getPatch(lws)
	if err != nil {
		return false, err
	}
	var generic interface{}
	if err := json.Unmarshal(stored, &generic); err != nil {
		return false, err
	}
	canonical, err := json.Marshal(generic)
	if err != nil {
		return false, err
	}
	if bytes.Equal(canonical, candidate) {
		return true, nil
	}
	restored, err := applyRevision(lws, stored)
	if err != nil {
		return false, err
	}
	again, err := getPatch(restored)
	if err != nil {
		return false, err
	}
	return bytes.Equal(again, candidate), nil
}
