// Command upstream computes revision vectors with upstream LeaderWorkerSet's own code: the published module
// sigs.k8s.io/lws (its API types in api/leaderworkerset/v1 and its revision package pkg/utils/revision), at the
// Kubernetes library versions that release pins. Nothing of upstream is re-stated here: keys, names, numbers, data
// bytes and verdicts all come from upstream's exported functions (NewRevision against a controller-runtime fake
// client, EqualRevision, SetMatchesRevision, ApplyRevision).
//
// Inputs: ../fixtures/*.json, ../semantic/*.json, ../golden.json (only the legacyData strings, as the bytes an older
// controller stored), numbering.json. Output: upstream.json, which upstream_test.ts compares with golden.json and
// with the TypeScript port.
//
// Usage (from this directory): go run . [-out upstream.json]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	serializerjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	leaderworkerset "sigs.k8s.io/lws/api/leaderworkerset/v1"
	revisionutils "sigs.k8s.io/lws/pkg/utils/revision"
)

// The upstream release whose code computes every vector; go.mod pins it (and through it the Kubernetes libraries).
const upstreamModule = "sigs.k8s.io/lws"

type revisionVector struct {
	Fixture string `json:"fixture"`
	// Fields of the fixture that upstream's types (at the pinned k8s.io/api) do not know, as the strict decoder
	// reports them. A non-legacy fixture with an entry here is one upstream cannot represent.
	UnknownFields []string `json:"unknownFields"`
	// Set when upstream's NewRevision refuses the LWS itself: its name is used as a label value, so a name over
	// 63 bytes fails label-selector validation (the LWS webhook never admits one). Data and key then come from
	// NewRevision on a copy named with the first 63 bytes (neither depends on the name) and the names are empty.
	NewRevisionError string `json:"newRevisionError,omitempty"`
	// NewRevision on an empty fake cluster: ControllerRevision data, template-revision-hash label, name, number.
	Data     string `json:"data"`
	Key      string `json:"key"`
	Name     string `json:"name"`
	Revision int64  `json:"revision"`
	// NewRevision with a given revision key (a legacy leader StatefulSet's): the label is that key, the name
	// still carries the hash.
	KeyedName  string `json:"keyedName"`
	KeyedLabel string `json:"keyedLabel"`
	// SetMatchesRevision(lws, rev, rev): ApplyRevision of its own revision then getPatch gives the same bytes.
	RoundTrip bool `json:"roundTrip"`
	// This fixture's revision applied (ApplyRevision) onto the next fixture's LWS (wrapping around), and
	// NewRevision of the result: restoring a revision onto a different live object.
	RestoredOnto string `json:"restoredOnto"`
	Restored     string `json:"restored"`
	// The revision an older controller stored (golden.json legacyData, "creationTimestamp": null markers) against
	// today's candidate: EqualRevision, SetMatchesRevision, and the controller's verdict (unchanged when either).
	LegacyEqual      bool `json:"legacyEqual"`
	LegacySetMatches bool `json:"legacySetMatches"`
	LegacyUnchanged  bool `json:"legacyUnchanged"`
}

type semanticVector struct {
	Case          string   `json:"case"`
	UnknownFields []string `json:"unknownFields"`
	Candidate     string   `json:"candidate"`
	Equal         bool     `json:"equal"`
	SetMatches    bool     `json:"setMatches"`
	Unchanged     bool     `json:"unchanged"`
}

type numberingVector struct {
	Case     string `json:"case"`
	Name     string `json:"name"`
	Revision int64  `json:"revision"`
}

type output struct {
	Comment   string            `json:"comment"`
	Versions  map[string]string `json:"versions"`
	Revisions []revisionVector  `json:"revisions"`
	Semantic  []semanticVector  `json:"semantic"`
	Numbering []numberingVector `json:"numbering"`
}

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := leaderworkerset.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// decode reads an LWS the way client-go does (the scheme's JSON serializer: case-sensitive, ints preserved,
// unknown fields dropped) and separately lists the fields a strict decoder rejects.
func decode(raw []byte) (*leaderworkerset.LeaderWorkerSet, []string, error) {
	lws := &leaderworkerset.LeaderWorkerSet{}
	if _, _, err := serializer.NewCodecFactory(scheme).UniversalDeserializer().Decode(raw, nil, lws); err != nil {
		return nil, nil, err
	}
	strict := serializerjson.NewSerializerWithOptions(serializerjson.DefaultMetaFactory, scheme, scheme,
		serializerjson.SerializerOptions{Strict: true})
	unknown := []string{}
	if _, _, err := strict.Decode(raw, nil, &leaderworkerset.LeaderWorkerSet{}); err != nil {
		se, ok := runtime.AsStrictDecodingError(err)
		if !ok {
			return nil, nil, err
		}
		for _, e := range se.Errors() {
			unknown = append(unknown, e.Error())
		}
		sort.Strings(unknown)
	}
	return lws, unknown, nil
}

// newRevision is upstream's NewRevision against a fake cluster holding `existing`.
func newRevision(lws *leaderworkerset.LeaderWorkerSet, key string, existing ...client.Object) (*appsv1.ControllerRevision, error) {
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(existing...).Build()
	return revisionutils.NewRevision(context.Background(), c, lws, key)
}

// shortName returns the LWS with its name cut to the 63 bytes a label value may hold (see NewRevisionError).
func shortName(lws *leaderworkerset.LeaderWorkerSet) *leaderworkerset.LeaderWorkerSet {
	if len(lws.Name) <= 63 {
		return lws
	}
	short := lws.DeepCopy()
	short.Name = short.Name[:63]
	return short
}

// stored is a ControllerRevision as the controller reads it back: data is the stored JSON, compacted (the API
// server's encoder compacts a RawExtension; key order and escapes are kept).
func stored(data []byte) (*appsv1.ControllerRevision, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		return nil, err
	}
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{ResourceVersion: "1"},
		Data:       runtime.RawExtension{Raw: b.Bytes()},
	}, nil
}

// verdict is upstream's getUpdatedRevision decision: the template is unchanged when EqualRevision holds or,
// failing that, SetMatchesRevision does (a fresh cache, so nothing is remembered between cases).
func verdict(lws *leaderworkerset.LeaderWorkerSet, candidate, base *appsv1.ControllerRevision) (equal, setMatches bool) {
	equal = revisionutils.EqualRevision(candidate, base)
	setMatches = revisionutils.SetMatchesRevision(lws, candidate, base, lru.New(16))
	return equal, setMatches
}

func readJSON(path string, v interface{}) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func readGoldenLegacy(path string) (map[string]string, error) {
	var g struct {
		Revisions []struct {
			Fixture    string `json:"fixture"`
			LegacyData string `json:"legacyData"`
		} `json:"revisions"`
	}
	if err := readJSON(path, &g); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range g.Revisions {
		out[r.Fixture] = r.LegacyData
	}
	return out, nil
}

func glob(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	return files, err
}

func revisionVectors(dir, goldenPath string) ([]revisionVector, error) {
	files, err := glob(dir)
	if err != nil {
		return nil, err
	}
	legacy, err := readGoldenLegacy(goldenPath)
	if err != nil {
		return nil, err
	}
	type decoded struct {
		name    string
		lws     *leaderworkerset.LeaderWorkerSet
		unknown []string
	}
	var all []decoded
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		lws, unknown, err := decode(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
		all = append(all, decoded{filepath.Base(f), lws, unknown})
	}
	var out []revisionVector
	for i, d := range all {
		fail := func(err error) error { return fmt.Errorf("%s: %w", d.name, err) }
		v := revisionVector{Fixture: d.name, UnknownFields: d.unknown}
		lws := d.lws
		if _, err := newRevision(lws, ""); err != nil {
			v.NewRevisionError = err.Error()
			lws = shortName(lws)
		}
		rev, err := newRevision(lws, "")
		if err != nil {
			return nil, fail(err)
		}
		keyed, err := newRevision(lws, "legacy-key")
		if err != nil {
			return nil, fail(err)
		}
		v.Data, v.Key, v.Revision = string(rev.Data.Raw), rev.Labels[leaderworkerset.RevisionKey], rev.Revision
		v.KeyedLabel = keyed.Labels[leaderworkerset.RevisionKey]
		if v.NewRevisionError == "" {
			v.Name, v.KeyedName = rev.Name, keyed.Name
		}
		v.RoundTrip = revisionutils.SetMatchesRevision(lws, rev, rev, lru.New(16))
		next := all[(i+1)%len(all)]
		restoredLws, err := revisionutils.ApplyRevision(shortName(next.lws), rev)
		if err != nil {
			return nil, fail(err)
		}
		restored, err := newRevision(restoredLws, "")
		if err != nil {
			return nil, fail(err)
		}
		v.RestoredOnto, v.Restored = next.name, string(restored.Data.Raw)
		legacyData, ok := legacy[d.name]
		if !ok {
			return nil, fail(fmt.Errorf("no legacyData in golden.json (run deno task oracle first)"))
		}
		base, err := stored([]byte(legacyData))
		if err != nil {
			return nil, fail(err)
		}
		v.LegacyEqual, v.LegacySetMatches = verdict(d.lws, rev, base)
		v.LegacyUnchanged = v.LegacyEqual || v.LegacySetMatches
		out = append(out, v)
	}
	return out, nil
}

func semanticVectors(dir string) ([]semanticVector, error) {
	files, err := glob(dir)
	if err != nil {
		return nil, err
	}
	var out []semanticVector
	for _, f := range files {
		name := filepath.Base(f)
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var c struct {
			LWS          json.RawMessage `json:"lws"`
			RevisionData json.RawMessage `json:"revisionData"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		lws, unknown, err := decode(c.LWS)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rev, err := newRevision(lws, "")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		base, err := stored(c.RevisionData)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		equal, setMatches := verdict(lws, rev, base)
		out = append(out, semanticVector{
			Case: name, UnknownFields: unknown, Candidate: string(rev.Data.Raw),
			Equal: equal, SetMatches: setMatches, Unchanged: equal || setMatches,
		})
	}
	return out, nil
}

func numberingVectors(file, fixture string) ([]numberingVector, error) {
	var in struct {
		Cases []struct {
			Name     string `json:"name"`
			Existing []struct {
				Namespace string  `json:"namespace"`
				NameLabel string  `json:"nameLabel"`
				Owner     *string `json:"owner"`
				Revision  int64   `json:"revision"`
			} `json:"existing"`
		} `json:"cases"`
	}
	if err := readJSON(file, &in); err != nil {
		return nil, err
	}
	lwsRaw, err := os.ReadFile(fixture)
	if err != nil {
		return nil, err
	}
	lws, _, err := decode(lwsRaw)
	if err != nil {
		return nil, err
	}
	var out []numberingVector
	for _, c := range in.Cases {
		var existing []client.Object
		for i, e := range c.Existing {
			cr := &appsv1.ControllerRevision{
				ObjectMeta: metav1.ObjectMeta{
					Name:      fmt.Sprintf("existing-%d", i),
					Namespace: e.Namespace,
					Labels:    map[string]string{leaderworkerset.SetNameLabelKey: e.NameLabel},
				},
				Revision: e.Revision,
			}
			if e.Owner != nil {
				yes := true
				cr.OwnerReferences = []metav1.OwnerReference{{
					APIVersion: leaderworkerset.GroupVersion.String(), Kind: "LeaderWorkerSet", Name: e.NameLabel,
					UID: types.UID(*e.Owner), Controller: &yes,
				}}
			}
			existing = append(existing, cr)
		}
		rev, err := newRevision(lws, "", existing...)
		if err != nil {
			return nil, fmt.Errorf("numbering %q: %w", c.Name, err)
		}
		out = append(out, numberingVector{Case: c.Name, Name: rev.Name, Revision: rev.Revision})
	}
	return out, nil
}

func moduleVersions() map[string]string {
	out := map[string]string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			switch d.Path {
			case upstreamModule, "k8s.io/api", "k8s.io/apimachinery", "sigs.k8s.io/controller-runtime", "sigs.k8s.io/json":
				out[d.Path] = d.Version
			}
		}
	}
	return out
}

func run(out string) error {
	o := output{
		Comment: "Generated by tests/oracle/upstream (deno task oracle) with upstream LWS's own code; do not edit. " +
			"Inputs: ../fixtures/, ../semantic/, ../golden.json legacyData, numbering.json.",
		Versions: moduleVersions(),
	}
	var err error
	if o.Revisions, err = revisionVectors("../fixtures", "../golden.json"); err != nil {
		return err
	}
	if o.Semantic, err = semanticVectors("../semantic"); err != nil {
		return err
	}
	if o.Numbering, err = numberingVectors("numbering.json", "../fixtures/001-spec-e2e-default.json"); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(o); err != nil {
		return err
	}
	if out == "" {
		_, err := os.Stdout.Write(b.Bytes())
		return err
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}

func main() {
	out := flag.String("out", "", "file to write (default stdout)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "upstream oracle:", strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}
