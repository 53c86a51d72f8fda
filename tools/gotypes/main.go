// Command gotypes writes controller/leaderworkerset/go_types_gen.ts: a table describing how Go's
// encoding/json serialises every struct reachable from the Kubernetes core/v1 PodTemplateSpec and
// PersistentVolumeClaim and from the LWS-level revision types (spec §5.4.3). The TypeScript normaliser
// (normalize.ts) walks JSON with this table to reproduce upstream's decode-into-Go-structs-and-re-encode
// step byte for byte.
//
// Usage: go run . [-out FILE]   (writes to stdout without -out)
package main

import (
	"bytes"
	"encoding"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"lwsdeno.local/tools/gotypes/lwsv1"
)

// Types with their own JSON (un)marshalling become leaf kinds the normaliser implements by hand.
var leafKinds = map[reflect.Type]string{
	reflect.TypeOf(resource.Quantity{}):  "quantity",
	reflect.TypeOf(intstr.IntOrString{}): "intOrString",
	reflect.TypeOf(metav1.Time{}):        "time",
	reflect.TypeOf(metav1.MicroTime{}):   "microTime",
	reflect.TypeOf(metav1.FieldsV1{}):    "rawJSON",
}

var roots = []reflect.Type{
	reflect.TypeOf(corev1.PodTemplateSpec{}),
	reflect.TypeOf(corev1.PersistentVolumeClaim{}),
	reflect.TypeOf(lwsv1.LeaderWorkerTemplate{}),
	reflect.TypeOf(lwsv1.NetworkConfig{}),
}

var (
	marshalerType     = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	unmarshalerType   = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textMarshalerType = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

type goField struct {
	json      string
	typ       string
	omitEmpty bool
	omitZero  bool
	index     []int
	depth     int
	tagged    bool
}

type generator struct {
	structs map[string][]goField
	pending []reflect.Type
}

func structName(t reflect.Type) string {
	parts := strings.Split(t.PkgPath(), "/")
	pkg := parts[len(parts)-1]
	if len(parts) >= 2 && strings.HasPrefix(pkg, "v") {
		pkg = parts[len(parts)-2] + pkg
	}
	return pkg + "." + t.Name()
}

func hasCustomJSON(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(marshalerType) || p.Implements(marshalerType) || p.Implements(unmarshalerType) ||
		t.Implements(textMarshalerType) || p.Implements(textMarshalerType)
}

// typeExpr renders t as a small type expression: string, bool, int, float, a leaf kind, a struct name,
// *T, []T or map[string]T.
func (g *generator) typeExpr(t reflect.Type) (string, error) {
	if t.Kind() == reflect.Pointer {
		e, err := g.typeExpr(t.Elem())
		return "*" + e, err
	}
	if leaf, ok := leafKinds[t]; ok {
		return leaf, nil
	}
	if hasCustomJSON(t) {
		return "", fmt.Errorf("type %s has custom JSON marshalling but no leaf kind", t)
	}
	switch t.Kind() {
	case reflect.String:
		return "string", nil
	case reflect.Bool:
		return "bool", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int", nil
	case reflect.Float32, reflect.Float64:
		return "float", nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes", nil
		}
		e, err := g.typeExpr(t.Elem())
		return "[]" + e, err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return "", fmt.Errorf("map %s has a non-string key", t)
		}
		e, err := g.typeExpr(t.Elem())
		return "map[string]" + e, err
	case reflect.Struct:
		name := structName(t)
		if _, seen := g.structs[name]; !seen {
			g.structs[name] = nil
			g.pending = append(g.pending, t)
		}
		return name, nil
	}
	return "", fmt.Errorf("unsupported type %s (kind %s)", t, t.Kind())
}

// fields lists the JSON fields of struct t the way encoding/json does (typeFields): embedded structs
// without a JSON name are flattened, shallower fields dominate deeper ones, tagged fields dominate
// untagged ones at the same depth.
func (g *generator) fields(t reflect.Type) ([]goField, error) {
	var all []goField
	type queued struct {
		t     reflect.Type
		index []int
	}
	current := []queued{{t: t}}
	for depth := 0; len(current) > 0; depth++ {
		var next []queued
		for _, q := range current {
			for i := 0; i < q.t.NumField(); i++ {
				sf := q.t.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						return nil, fmt.Errorf("%s.%s: embedded pointers are not supported", q.t, sf.Name)
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				index := append(append([]int{}, q.index...), i)
				if name == "" && sf.Anonymous && sf.Type.Kind() == reflect.Struct {
					if _, leaf := leafKinds[sf.Type]; !leaf && !hasCustomJSON(sf.Type) {
						next = append(next, queued{t: sf.Type, index: index})
						continue
					}
				}
				tagged := name != ""
				if !tagged {
					name = sf.Name
				}
				expr, err := g.typeExpr(sf.Type)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", q.t, sf.Name, err)
				}
				f := goField{json: name, typ: expr, index: index, depth: depth, tagged: tagged}
				for _, o := range strings.Split(opts, ",") {
					switch o {
					case "omitempty":
						f.omitEmpty = true
					case "omitzero":
						f.omitZero = true
					case "", "inline":
					case "string":
						return nil, fmt.Errorf("%s.%s: the ,string option is not supported", q.t, sf.Name)
					}
				}
				all = append(all, f)
			}
		}
		current = next
	}
	byName := map[string][]goField{}
	for _, f := range all {
		byName[f.json] = append(byName[f.json], f)
	}
	var out []goField
	for name, fs := range byName {
		sort.SliceStable(fs, func(a, b int) bool {
			if fs[a].depth != fs[b].depth {
				return fs[a].depth < fs[b].depth
			}
			return fs[a].tagged && !fs[b].tagged
		})
		if len(fs) > 1 && fs[0].depth == fs[1].depth && fs[0].tagged == fs[1].tagged {
			return nil, fmt.Errorf("%s: ambiguous JSON field %q", t, name)
		}
		out = append(out, fs[0])
	}
	sort.Slice(out, func(a, b int) bool {
		x, y := out[a].index, out[b].index
		for i := 0; i < len(x) && i < len(y); i++ {
			if x[i] != y[i] {
				return x[i] < y[i]
			}
		}
		return len(x) < len(y)
	})
	return out, nil
}

func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range info.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return "unknown"
}

func run(out string) error {
	g := &generator{structs: map[string][]goField{}}
	var rootNames []string
	for _, r := range roots {
		name, err := g.typeExpr(r)
		if err != nil {
			return err
		}
		rootNames = append(rootNames, name)
	}
	for len(g.pending) > 0 {
		t := g.pending[0]
		g.pending = g.pending[1:]
		fs, err := g.fields(t)
		if err != nil {
			return err
		}
		g.structs[structName(t)] = fs
	}
	names := make([]string, 0, len(g.structs))
	for n := range g.structs {
		names = append(names, n)
	}
	sort.Strings(names)

	var b bytes.Buffer
	apiVersion := moduleVersion("k8s.io/api")
	machineryVersion := moduleVersion("k8s.io/apimachinery")
	fmt.Fprintf(&b, "// Code generated by tools/gotypes (deno task gen:gotypes); DO NOT EDIT.\n")
	fmt.Fprintf(&b, "// Source: k8s.io/api %s, k8s.io/apimachinery %s, LWS v1 types from tools/gotypes/lwsv1.\n\n", apiVersion, machineryVersion)
	b.WriteString(`/**
 * How Go's ` + "`encoding/json`" + ` serialises the structs of an LWS revision (spec §5.4.3), reflected from the Kubernetes Go
 * types. Generated — do not edit; run ` + "`deno task gen:gotypes`" + `.
 *
 * @module
 */

/**
 * One JSON field of a Go struct, after embedded structs are flattened.
 *
 * ` + "`type`" + ` is a small type expression: ` + "`string`, `bool`, `int`, `float`, `bytes`" + `, a leaf kind with custom JSON
 * (` + "`quantity`, `intOrString`, `time`, `microTime`, `rawJSON`" + `), a struct name from {@link GO_STRUCTS}, or ` + "`*T`, `[]T`" + `,
 * ` + "`map[string]T`" + ` over those.
 */
export interface GoField {
  /** The JSON name. */
  readonly json: string;
  /** The Go type as a type expression. */
  readonly type: string;
  /** Tagged ` + "`omitempty`" + `. */
  readonly omitempty?: true;
  /** Tagged ` + "`omitzero`" + `. */
  readonly omitzero?: true;
}

`)
	fmt.Fprintf(&b, "/** Versions of the Go modules the table was generated from. */\n")
	fmt.Fprintf(&b, "export const GO_TYPES_SOURCE = { k8sApi: %q, k8sApimachinery: %q } as const;\n\n", apiVersion, machineryVersion)
	fmt.Fprintf(&b, "/** Struct names of the roots: PodTemplateSpec, PersistentVolumeClaim, LeaderWorkerTemplate, NetworkConfig. */\n")
	fmt.Fprintf(&b, "export const GO_ROOTS = {\n")
	fmt.Fprintf(&b, "  podTemplateSpec: %q,\n  persistentVolumeClaim: %q,\n  leaderWorkerTemplate: %q,\n  networkConfig: %q,\n", rootNames[0], rootNames[1], rootNames[2], rootNames[3])
	fmt.Fprintf(&b, "} as const;\n\n")
	fmt.Fprintf(&b, "/** Every reachable struct by name, its JSON fields in Go declaration order. */\n")
	fmt.Fprintf(&b, "export const GO_STRUCTS: Readonly<Record<string, readonly GoField[]>> = {\n")
	for _, n := range names {
		fs := g.structs[n]
		if len(fs) == 0 {
			fmt.Fprintf(&b, "  %q: [],\n", n)
			continue
		}
		fmt.Fprintf(&b, "  %q: [\n", n)
		for _, f := range fs {
			props := []string{fmt.Sprintf("json: %q", f.json), fmt.Sprintf("type: %q", f.typ)}
			if f.omitEmpty {
				props = append(props, "omitempty: true")
			}
			if f.omitZero {
				props = append(props, "omitzero: true")
			}
			// Lay out like deno fmt (line width 120) so the committed file passes deno fmt --check.
			if line := "    { " + strings.Join(props, ", ") + " },"; len(line) <= 120 {
				b.WriteString(line + "\n")
			} else {
				b.WriteString("    {\n")
				for _, p := range props {
					b.WriteString("      " + p + ",\n")
				}
				b.WriteString("    },\n")
			}
		}
		b.WriteString("  ],\n")
	}
	b.WriteString("};\n")
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
		fmt.Fprintln(os.Stderr, "gotypes:", err)
		os.Exit(1)
	}
}
