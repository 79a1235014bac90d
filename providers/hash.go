package providers

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
)

// AttrsHash hashes attributes in canonical JSON (see Canonical), to skip unchanged
// instances on refresh without comparing their attributes.
func AttrsHash(a Attrs) string {
	h := fnv.New128a()
	h.Write(a)
	return hex.EncodeToString(h.Sum(nil))
}

// Canonical rewrites a JSON object in canonical form: keys sorted, no insignificant
// whitespace, numbers as written. Attrs crossing the interface must be canonical, so
// equal attributes have equal bytes and equal hashes.
func Canonical(a Attrs) (Attrs, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(a))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	// encoding/json writes map keys sorted and compact.
	return json.Marshal(v)
}
