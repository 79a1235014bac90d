package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command/views"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
	"github.com/fabrica-iac/fabrica/planner/states/local"
	"github.com/fabrica-iac/fabrica/planner/states/pg"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// backendSettings is a configured backend: its type and arguments after
// --backend-config and FABRICA_PG_CONN_STR, and the selected workspace.
type backendSettings struct {
	kind      string // "local" or "pg"
	path      string // local
	connStr   string // pg
	schema    string // pg
	workspace string
	keyring   *crypt.Keyring
}

// workspaceFile holds the selected workspace (`fabrica workspace select`).
func workspaceFile(dir string) string { return filepath.Join(fabricaDir(dir), "workspace") }

// currentWorkspace is FABRICA_WORKSPACE, else the selected one, else default.
func currentWorkspace(dir string, env []string) string {
	if ws := lookupEnv(env, "FABRICA_WORKSPACE"); ws != "" {
		return ws
	}
	if b, err := os.ReadFile(workspaceFile(dir)); err == nil {
		if ws := strings.TrimSpace(string(b)); ws != "" {
			return ws
		}
	}
	return states.DefaultWorkspace
}

// readBackendSettings decodes the backend block (literal arguments only: credentials
// belong in FABRICA_PG_CONN_STR or --backend-config, not in files).
func readBackendSettings(cfg *schema.Config, dir string, env []string, overrides []string) (*backendSettings, diag.Diagnostics) {
	bs := &backendSettings{kind: "local", path: filepath.Join(fabricaDir(dir), "state.json"), schema: pg.DefaultSchema,
		workspace: currentWorkspace(dir, env)}
	var diags diag.Diagnostics
	if cfg.Settings != nil && cfg.Settings.Backend != nil {
		b := cfg.Settings.Backend
		bs.kind = b.Type
		attrs, hd := b.Config.JustAttributes()
		diags = diags.Append(hd)
		for name, a := range attrs {
			v, d := literalString(a)
			diags = diags.Append(d)
			diags = diags.Append(bs.set(name, v, a.NameRange))
		}
	}
	for _, kv := range overrides {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			diags = diags.Append(fmt.Errorf("--backend-config %q is not KEY=VALUE", kv))
			continue
		}
		diags = diags.Append(bs.set(k, v, hcl.Range{}))
	}
	if c := lookupEnv(env, "FABRICA_PG_CONN_STR"); c != "" && bs.kind == "pg" && !hasOverride(overrides, "conn_str") {
		bs.connStr = c
	}
	if bs.kind == "local" && !filepath.IsAbs(bs.path) {
		bs.path = filepath.Join(dir, strings.TrimPrefix(bs.path, dir+string(filepath.Separator)))
	}
	if cfg.Settings != nil && cfg.Settings.Encryption != nil {
		k, d := decodeEncryption(cfg.Settings.Encryption)
		diags = diags.Append(d)
		bs.keyring = k
	}
	return bs, diags
}

func hasOverride(overrides []string, key string) bool {
	for _, kv := range overrides {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

func (bs *backendSettings) set(name, value string, rng hcl.Range) diag.Diagnostics {
	switch {
	case bs.kind == "local" && name == "path":
		bs.path = value
	case bs.kind == "pg" && name == "conn_str":
		bs.connStr = value
	case bs.kind == "pg" && name == "schema_name":
		bs.schema = value
	default:
		return diag.Diagnostics{diag.Errorf(rng, "Unsupported backend argument",
			"The %q backend has no argument %q (local: path; pg: conn_str, schema_name).", bs.kind, name)}
	}
	return nil
}

func literalString(a *hcl.Attribute) (string, diag.Diagnostics) {
	var s string
	if hd := gohcl.DecodeExpression(a.Expr, nil, &s); hd.HasErrors() {
		return "", diag.Diagnostics{diag.Errorf(a.Expr.Range(), "Invalid backend argument",
			"%s must be a literal string; keep credentials out of files with FABRICA_PG_CONN_STR or --backend-config.", a.Name)}
	}
	return s, nil
}

// encryptionBody is the encryption block: one key source, old keys being rotated away
// from, and whether an unencrypted state may be read (to encrypt it for the first time).
type encryptionBody struct {
	Passphrase     string         `hcl:"passphrase,optional"`
	PassphraseEnv  string         `hcl:"passphrase_env,optional"`
	Key            string         `hcl:"key,optional"`
	KeyEnv         string         `hcl:"key_env,optional"`
	KeyFile        string         `hcl:"key_file,optional"`
	AllowPlaintext bool           `hcl:"allow_plaintext,optional"`
	Old            []oldKeySource `hcl:"old_key,block"`
}

type oldKeySource struct {
	Passphrase    string `hcl:"passphrase,optional"`
	PassphraseEnv string `hcl:"passphrase_env,optional"`
	Key           string `hcl:"key,optional"`
	KeyEnv        string `hcl:"key_env,optional"`
	KeyFile       string `hcl:"key_file,optional"`
}

func decodeEncryption(e *schema.Encryption) (*crypt.Keyring, diag.Diagnostics) {
	var body encryptionBody
	if hd := gohcl.DecodeBody(e.Config, nil, &body); hd.HasErrors() {
		return nil, diag.Diagnostics{}.Append(hd)
	}
	cfg := crypt.Config{AllowPlaintext: body.AllowPlaintext,
		Key: crypt.KeySource{Passphrase: body.Passphrase, PassphraseEnv: body.PassphraseEnv, Key: body.Key, KeyEnv: body.KeyEnv, KeyFile: body.KeyFile}}
	for _, o := range body.Old {
		cfg.Old = append(cfg.Old, crypt.KeySource{Passphrase: o.Passphrase, PassphraseEnv: o.PassphraseEnv, Key: o.Key, KeyEnv: o.KeyEnv, KeyFile: o.KeyFile})
	}
	k, err := crypt.New(cfg)
	if err != nil {
		return nil, diag.Diagnostics{diag.Errorf(e.DeclRange, "Invalid encryption settings", "%s.", err)}
	}
	return k, nil
}

// open returns the backend for the selected workspace, and its workspace manager.
func (bs *backendSettings) open(ctx context.Context) (states.Backend, states.Workspaces, error) {
	switch bs.kind {
	case "local":
		b := local.New(local.WorkspacePath(bs.path, bs.workspace))
		b.Version, b.Crypt = schema.Version, bs.keyring
		return b, local.NewWorkspaces(bs.path), nil
	case "pg":
		b, err := pg.New(ctx, pg.Config{ConnString: bs.connStr, Schema: bs.schema, Workspace: bs.workspace,
			Crypt: bs.keyring, Version: schema.Version})
		if err != nil {
			return nil, nil, err
		}
		return b, b, nil
	}
	return nil, nil, fmt.Errorf("unknown backend %q", bs.kind)
}

// keyringOf returns the configured encryption keyring of the directory (nil without an
// encryption block or when the configuration does not load), for reading plan files.
func keyringOf(g *globals, streams *views.Streams) *crypt.Keyring {
	cfg, diags := schema.LoadSettings(g.dir) // the keyring is in the fabrica block
	if diags.HasErrors() {
		return nil
	}
	bs, diags := readBackendSettings(cfg, g.dir, environ(streams), g.backendConfig)
	if diags.HasErrors() {
		return nil
	}
	return bs.keyring
}
