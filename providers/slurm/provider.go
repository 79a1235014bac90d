package slurm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/fabrica-iac/fabrica/providers/launch"
)

// Name is the provider's name in provider blocks and a training_cluster's scheduler.
const Name = "slurm"

// Version is the provider's version.
const Version = "0.1.0"

// Kind is the only resource kind the provider implements.
const Kind = "training_job"

// Defaults of the provider block.
const (
	DefaultPollInterval   = 500 * time.Millisecond
	DefaultCommandTimeout = 30 * time.Second
)

// unreachableGrace is how long a wait keeps polling a controller that does not answer
// before it gives up (the job is kept in state; refresh reads it once slurmctld is back).
const unreachableGrace = 60 * time.Second

// config is the provider block.
type config struct {
	Partition      string
	Account        string
	BinDir         string
	SlurmConf      string
	TimeLimit      time.Duration // 0: the partition's default
	PollInterval   time.Duration
	CommandTimeout time.Duration
}

// provider implements providers.Provider for training jobs submitted to Slurm.
type provider struct {
	mu      sync.Mutex // guards the fields below
	workDir string     // absolute WORKDIR; "" until configured
	cfg     config
	cli     *cli
	poll    *poller
	grace   time.Duration // unreachableGrace; tests shorten it
	pinged  time.Time     // when slurmctld last answered a ping
	pingMu  sync.Mutex    // one ping at a time: a burst of creates waits for the first

	stop *launch.Stopper
}

// New returns an unconfigured slurm provider.
func New() providers.Provider {
	return &provider{stop: launch.NewStopper(), grace: unreachableGrace}
}

// configArgs describes the provider block.
var configArgs = []providers.ConfigAttr{
	{Name: "partition", Type: "string", Doc: "Slurm partition jobs are submitted to (default: the cluster's default partition)"},
	{Name: "account", Type: "string", Doc: "Slurm account jobs are charged to (default: the user's default account)"},
	{Name: "bin_dir", Type: "string", Doc: "directory holding sbatch, squeue, scontrol and scancel (default: found on PATH)"},
	{Name: "slurm_conf", Type: "string", Doc: "slurm.conf the commands read (SLURM_CONF; default: theirs)"},
	{Name: "time_limit", Type: "duration", Doc: `time limit of every job, e.g. "24h" (default: the partition's default)`},
	{Name: "poll_interval", Type: "duration", Doc: `how often apply polls squeue while it waits (default "500ms")`},
	{Name: "command_timeout", Type: "duration", Doc: `how long one Slurm command may take before slurmctld counts as not responding (default "30s")`},
}

// Info describes the provider.
func (p *provider) Info(context.Context) (providers.InfoResponse, error) {
	return providers.InfoResponse{Name: Name, Version: Version, Kinds: []string{Kind}, Config: configArgs}, nil
}

// Configure reads the provider block and keeps the working directory; jobs live in
// WORKDIR/.fabrica/jobs. A bin_dir without sbatch is an error; sbatch missing from PATH
// is a warning (plans work, apply and refresh will not).
func (p *provider) Configure(_ context.Context, req providers.ConfigureRequest) providers.ConfigureResponse {
	cfg, diags := parseConfig(req.Config)
	if providers.HasErrors(diags) {
		return providers.ConfigureResponse{Diagnostics: diags}
	}
	dir, err := filepath.Abs(req.WorkDir)
	if err != nil {
		return providers.ConfigureResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Invalid working directory", err.Error())}}
	}
	diags = append(diags, checkBinDir(&cfg)...)
	c := &cli{binDir: cfg.BinDir, env: commandEnv(os.Environ(), cfg.SlurmConf), timeout: cfg.CommandTimeout,
		slots: make(chan struct{}, maxCommands)}
	p.mu.Lock()
	p.workDir, p.cfg, p.cli = dir, cfg, c
	p.poll = newPoller(c, cfg.PollInterval)
	p.mu.Unlock()
	return providers.ConfigureResponse{Diagnostics: diags}
}

// checkBinDir resolves bin_dir: an explicit one must hold sbatch; the default is
// sbatch's directory on PATH.
func checkBinDir(cfg *config) []providers.Diagnostic {
	if cfg.BinDir != "" {
		if _, err := os.Stat(filepath.Join(cfg.BinDir, "sbatch")); err != nil {
			return []providers.Diagnostic{providers.Errorf("bin_dir", "sbatch not found",
				fmt.Sprintf("bin_dir is %s, but it holds no sbatch: %v. Point bin_dir at the directory of the Slurm client commands.", cfg.BinDir, err))}
		}
		return nil
	}
	path, err := exec.LookPath("sbatch")
	if err != nil {
		return []providers.Diagnostic{{Severity: providers.SeverityWarning, Attribute: "bin_dir", Summary: "Slurm commands not found",
			Detail: "sbatch is not on PATH here: fabrica can plan Slurm jobs but not submit or read them. Install the Slurm client commands or set bin_dir in the slurm provider block."}}
	}
	cfg.BinDir = filepath.Dir(path)
	return nil
}

// configured returns the working directory, the configuration and the command runner,
// or a diagnostic.
func (p *provider) configured() (string, config, *cli, []providers.Diagnostic) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.workDir == "" {
		return "", config{}, nil, []providers.Diagnostic{providers.Errorf("", "Provider not configured", "Configure must be called before any other method of the slurm provider.")}
	}
	return p.workDir, p.cfg, p.cli, nil
}

// pingFresh is how long a successful ping spares the next create or delete its own: a
// burst of 100 creates pings once, not 100 times.
const pingFresh = 2 * time.Second

// ping checks that slurmctld answers before a submission, a cancellation or a refresh,
// so that a down controller fails them at once (sbatch, scancel and squeue retry for
// about 10 s first). With cached, a ping that succeeded in the last pingFresh counts.
func (p *provider) ping(ctx context.Context, c *cli, cached bool) error {
	p.pingMu.Lock()
	defer p.pingMu.Unlock()
	p.mu.Lock()
	fresh := cached && time.Since(p.pinged) < pingFresh
	p.mu.Unlock()
	if fresh {
		return nil
	}
	err := c.ping(ctx)
	p.mu.Lock()
	p.pinged = time.Time{}
	if err == nil {
		p.pinged = time.Now()
	}
	p.mu.Unlock()
	return err
}

// Stop makes waiting changes detach (the jobs keep running) and later creates fail.
func (p *provider) Stop(context.Context) error {
	p.stop.Stop()
	return nil
}

// parseConfig checks the provider block.
func parseConfig(raw json.RawMessage) (config, []providers.Diagnostic) {
	cfg := config{PollInterval: DefaultPollInterval, CommandTimeout: DefaultCommandTimeout}
	keys, m, diags := launch.ConfigArgs(Name, raw)
	if diags != nil {
		return cfg, diags
	}
	strs := map[string]*string{"partition": &cfg.Partition, "account": &cfg.Account, "bin_dir": &cfg.BinDir, "slurm_conf": &cfg.SlurmConf}
	durs := map[string]*time.Duration{"time_limit": &cfg.TimeLimit, "poll_interval": &cfg.PollInterval, "command_timeout": &cfg.CommandTimeout}
	for _, k := range keys {
		v := m[k]
		if s, ok := strs[k]; ok {
			if json.Unmarshal(v, s) != nil || !safeValue(*s, k == "partition" || k == "account") {
				diags = append(diags, providers.Errorf(k, "Invalid "+k, fmt.Sprintf("%s must be a string without control characters (nor spaces, for names), not %s.", k, v)))
			}
			continue
		}
		if d, ok := durs[k]; ok {
			var s string
			parsed, err := time.Duration(0), json.Unmarshal(v, &s)
			if err == nil {
				parsed, err = time.ParseDuration(s)
			}
			if err != nil || parsed <= 0 {
				diags = append(diags, providers.Errorf(k, "Invalid "+k, fmt.Sprintf(`%s must be a positive duration such as "30s" or "24h", not %s.`, k, v)))
				continue
			}
			*d = parsed
			continue
		}
		diags = append(diags, providers.Errorf(k, "Unsupported argument", fmt.Sprintf("The slurm provider has no argument %q; it accepts partition, account, bin_dir, slurm_conf, time_limit, poll_interval and command_timeout.", k)))
	}
	return cfg, diags
}

// safeValue reports whether a configuration string is free of control characters (and
// of spaces, for a name).
func safeValue(s string, name bool) bool {
	for _, c := range s {
		if c < ' ' || c == 0x7f || (name && c == ' ') {
			return false
		}
	}
	return true
}

// unsupportedKind is the diagnostic for a kind the slurm provider does not implement.
func unsupportedKind(kind string) providers.Diagnostic {
	return providers.Errorf("", "Unsupported resource kind",
		fmt.Sprintf("The slurm provider runs training jobs (training_job) on a Slurm cluster; it has no %q. Facilities, hardware, fabrics and storage belong to another provider (sim by default).", kind))
}
