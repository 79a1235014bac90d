package bench
import ("testing";"os";"runtime";"runtime/pprof";"github.com/fabrica-iac/fabrica/planner";"github.com/fabrica-iac/fabrica/schema")
func TestZZLive(t *testing.T){
 runtime.MemProfileRate = 65536
 st := StyleCountPerRack; if os.Getenv("ZZNODE")!="" { st = StyleBlockPerNode }
 files := Generate(Options{Nodes:100000, Style: st})
 cfg, _ := schema.LoadSources(files)
 ev, _ := planner.Evaluate(cfg, planner.InputVars{})
 runtime.GC()
 f, _ := os.Create(os.Getenv("ZZOUT")); pprof.Lookup("heap").WriteTo(f, 0); f.Close()
 runtime.KeepAlive(ev); runtime.KeepAlive(files)
}
