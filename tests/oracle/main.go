// Command oracle computes golden vectors for the TypeScript revision and Quantity code with Go and the real
// Kubernetes libraries: for every fixture LWS the canonical revision data and hash (plus a legacy
// "creationTimestamp": null variant and the §7.3 semantic-equality verdict), the semantic-equality cases, and
// resource.Quantity String() / Add / Cmp results.
//
// Usage (from this directory): go run . [-out golden.json]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	kjson "sigs.k8s.io/json"
)

type revisionVector struct {
	Fixture         string `json:"fixture"`
	Data            string `json:"data"`
	Hash            string `json:"hash"`
	LegacyData      string `json:"legacyData"`
	LegacyHash      string `json:"legacyHash"`
	LegacyUnchanged bool   `json:"legacyUnchanged"`
}

type semanticVector struct {
	Case      string `json:"case"`
	Candidate string `json:"candidate"`
	Unchanged bool   `json:"unchanged"`
}

type quantityVector struct {
	In    string `json:"in"`
	Out   string `json:"out,omitempty"`
	Error string `json:"error,omitempty"`
}

type quantityPair struct {
	A   string `json:"a"`
	B   string `json:"b"`
	Sum string `json:"sum"`
	Cmp int    `json:"cmp"`
}

type golden struct {
	Comment      string            `json:"comment"`
	Versions     map[string]string `json:"versions"`
	Revisions    []revisionVector  `json:"revisions"`
	Semantic     []semanticVector  `json:"semantic"`
	Quantities   []quantityVector  `json:"quantities"`
	QuantityJSON []quantityVector  `json:"quantityJSON"`
	QuantitySums []quantityPair    `json:"quantitySums"`
}

// checkAPIServerForm fails when a number in the fixture is not written the way the API server writes it
// (int64 in decimal, otherwise Go's float64 encoding): Go's Quantity decoder sees the literal text, so a
// fixture like `cpu: 1e3` would test an input the controller can never receive.
func checkAPIServerForm(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return err
	}
	var walk func(v interface{}, path string) error
	walk = func(v interface{}, path string) error {
		switch t := v.(type) {
		case map[string]interface{}:
			for k, x := range t {
				if err := walk(x, path+"."+k); err != nil {
					return err
				}
			}
		case []interface{}:
			for i, x := range t {
				if err := walk(x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		case json.Number:
			want := ""
			if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
				want = strconv.FormatInt(i, 10)
			} else {
				f, err := t.Float64()
				if err != nil {
					return err
				}
				b, err := json.Marshal(f)
				if err != nil {
					return err
				}
				want = string(b)
			}
			if want != string(t) {
				return fmt.Errorf("%s: the API server writes %s as %s", path, t, want)
			}
		}
		return nil
	}
	return walk(v, "$")
}

// decodeLWS decodes like the controller's client: case-sensitive, numbers into typed fields.
func decodeLWS(data []byte) (*LeaderWorkerSet, error) {
	lws := &LeaderWorkerSet{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, lws); err != nil {
		return nil, err
	}
	return lws, nil
}

// legacyData re-creates what Kubernetes libraries before v1.34 stored: "creationTimestamp": null in every
// embedded ObjectMeta of the revision.
func legacyData(data []byte) ([]byte, error) {
	var patch map[string]interface{}
	if err := json.Unmarshal(data, &patch); err != nil {
		return nil, err
	}
	mark := func(obj interface{}) {
		if m, ok := obj.(map[string]interface{}); ok {
			if meta, ok := m["metadata"].(map[string]interface{}); ok {
				meta["creationTimestamp"] = nil
			}
		}
	}
	markPod := func(tpl interface{}) {
		mark(tpl)
		t, _ := tpl.(map[string]interface{})
		spec, _ := t["spec"].(map[string]interface{})
		vols, _ := spec["volumes"].([]interface{})
		for _, v := range vols {
			vm, _ := v.(map[string]interface{})
			eph, _ := vm["ephemeral"].(map[string]interface{})
			if eph != nil {
				mark(eph["volumeClaimTemplate"])
			}
		}
	}
	spec := patch["spec"].(map[string]interface{})
	lwt := spec["leaderWorkerTemplate"].(map[string]interface{})
	markPod(lwt["leaderTemplate"])
	markPod(lwt["workerTemplate"])
	vcts, _ := lwt["volumeClaimTemplates"].([]interface{})
	for _, v := range vcts {
		mark(v)
	}
	return json.Marshal(patch)
}

func revisionVectors(dir string) ([]revisionVector, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []revisionVector
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(f)
		if err := checkAPIServerForm(raw); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		lws, err := decodeLWS(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		data, err := getPatch(lws)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		legacy, err := legacyData(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		unchanged, err := templateUnchanged(lws, legacy)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, revisionVector{
			Fixture: name, Data: string(data), Hash: hashData(data),
			LegacyData: string(legacy), LegacyHash: hashData(legacy), LegacyUnchanged: unchanged,
		})
	}
	return out, nil
}

// A semantic case: a live LWS and the data of its base revision as some controller stored it.
type semanticCase struct {
	Comment      string          `json:"comment"`
	LWS          json.RawMessage `json:"lws"`
	RevisionData json.RawMessage `json:"revisionData"`
}

func semanticVectors(dir string) ([]semanticVector, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []semanticVector
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(f)
		var c semanticCase
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := checkAPIServerForm(c.LWS); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		lws, err := decodeLWS(c.LWS)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		candidate, err := getPatch(lws)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		unchanged, err := templateUnchanged(lws, c.RevisionData)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, semanticVector{Case: name, Candidate: string(candidate), Unchanged: unchanged})
	}
	return out, nil
}

func quantityVectors(file string) ([]quantityVector, []quantityVector, []quantityPair, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, nil, err
	}
	var inputs struct {
		Parse []string `json:"parse"`
		JSON  []string `json:"json"`
	}
	if err := json.Unmarshal(raw, &inputs); err != nil {
		return nil, nil, nil, err
	}
	var parsed []quantityVector
	var ok []resource.Quantity
	var okIn []string
	for _, in := range inputs.Parse {
		q, err := resource.ParseQuantity(in)
		if err != nil {
			parsed = append(parsed, quantityVector{In: in, Error: err.Error()})
			continue
		}
		ok = append(ok, q)
		okIn = append(okIn, in)
		parsed = append(parsed, quantityVector{In: in, Out: q.String()})
	}
	var viaJSON []quantityVector
	for _, in := range inputs.JSON {
		// Feed the decoder what the API server would send: the value re-encoded by Go.
		var generic interface{}
		if err := json.Unmarshal([]byte(in), &generic); err != nil {
			return nil, nil, nil, fmt.Errorf("quantities.json: %q: %w", in, err)
		}
		apiForm, err := json.Marshal(generic)
		if err != nil {
			return nil, nil, nil, err
		}
		var q resource.Quantity
		if err := json.Unmarshal(apiForm, &q); err != nil {
			viaJSON = append(viaJSON, quantityVector{In: in, Error: err.Error()})
			continue
		}
		b, err := json.Marshal(q)
		if err != nil {
			return nil, nil, nil, err
		}
		viaJSON = append(viaJSON, quantityVector{In: in, Out: string(b)})
	}
	var sums []quantityPair
	for i := 0; i+1 < len(ok); i++ {
		a, b := ok[i].DeepCopy(), ok[i+1].DeepCopy()
		c := a.Cmp(b)
		a.Add(b)
		sums = append(sums, quantityPair{A: okIn[i], B: okIn[i+1], Sum: a.String(), Cmp: c})
	}
	return parsed, viaJSON, sums, nil
}

func moduleVersions() map[string]string {
	out := map[string]string{
		"sigs.k8s.io/lws": "v0.10.0 API transcribed from the spec (lws_types.go, tools/gotypes/lwsv1) and revision code re-stated (revision.go); upstream v0.9.0's own code is run by upstream/ — see README.md",
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "k8s.io/api" || d.Path == "k8s.io/apimachinery" || d.Path == "sigs.k8s.io/json" {
				out[d.Path] = d.Version
			}
		}
	}
	return out
}

func run(out string) error {
	g := golden{
		Comment:  "Generated by tests/oracle (deno task oracle); do not edit. Inputs: fixtures/, semantic/, quantities.json.",
		Versions: moduleVersions(),
	}
	var err error
	if g.Revisions, err = revisionVectors("fixtures"); err != nil {
		return err
	}
	if g.Semantic, err = semanticVectors("semantic"); err != nil {
		return err
	}
	if g.Quantities, g.QuantityJSON, g.QuantitySums, err = quantityVectors("quantities.json"); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
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
		fmt.Fprintln(os.Stderr, "oracle:", strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}
