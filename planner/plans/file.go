package plans

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// planMagic starts every plan file; a file without it is not a plan.
const planMagic = "fabrica-plan\n"

// WriteFile writes the plan to path atomically (a temporary file renamed into place), so
// a crash never leaves a half-written plan.
func WriteFile(path string, p *Plan) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".plan-*")
	if err != nil {
		return fmt.Errorf("cannot write plan file: %w", err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if _, err := bw.WriteString(planMagic); err != nil {
		tmp.Close()
		return err
	}
	zw := gzip.NewWriter(bw)
	if err := json.NewEncoder(zw).Encode(p); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot encode plan: %w", err)
	}
	if err := errors.Join(zw.Close(), bw.Flush(), tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("cannot write plan file: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// ReadFile reads a plan written by WriteFile; anything else gets an error saying the
// file is not a fabrica plan.
func ReadFile(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	head := make([]byte, len(planMagic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != planMagic {
		return nil, fmt.Errorf("%s is not a fabrica plan file (write one with fabrica plan --out FILE)", path)
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid fabrica plan file: %w", path, err)
	}
	var p Plan
	if err := json.NewDecoder(zr).Decode(&p); err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", path, err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("%s has plan format %q; this fabrica reads format %q", path, p.FormatVersion, FormatVersion)
	}
	return &p, nil
}
