package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// checkKeys reads one JSON value from data and checks every object key
// against the JSON names of t, exactly: Go's decoder matches keys without
// regard to case and lets a later duplicate win, so a record with both
// "outPath" and "OutPath" would read one way in nixdock and another in jq.
// Unknown keys, keys in the wrong case and duplicate keys are errors, named
// by their JSON path; so is anything after the value.
func checkKeys(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walk(dec, t, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the record's JSON object")
	}
	return nil
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// walk reads one value whose Go type is t (nil: anything) and checks its
// object keys.
func walk(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (reflect.PointerTo(t).Implements(unmarshaler) || t.Kind() == reflect.Interface) {
		t = nil // its own decoding decides; keys are still checked for duplicates
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", orRoot(path), err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walk(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case '{':
		var fields map[string]reflect.Type
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Struct {
			fields = jsonFields(t)
		} else if t != nil && t.Kind() == reflect.Map {
			elem = t.Elem()
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%s: %w", orRoot(path), err)
			}
			key := tok.(string)
			kp := key
			if path != "" {
				kp = path + "." + key
			}
			if seen[key] {
				return fmt.Errorf("key %q appears twice", kp)
			}
			seen[key] = true
			vt := elem
			if fields != nil {
				ft, ok := fields[key]
				if !ok {
					return unknownKey(kp, key, fields)
				}
				vt = ft
			}
			if err := walk(dec, vt, kp); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

func unknownKey(kp, key string, fields map[string]reflect.Type) error {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return fmt.Errorf("key %q: keys are case-sensitive, write %q", kp, name)
		}
	}
	return fmt.Errorf("unknown key %q", kp)
}

func orRoot(path string) string {
	if path == "" {
		return "the record"
	}
	return path
}

// jsonFields maps the JSON names of t's exported fields (embedded structs
// flattened, "-" left out) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
