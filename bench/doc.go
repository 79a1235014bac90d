// Package bench generates large, valid fabrica configurations and benchmarks the
// load → evaluate → validate → derive pipeline on them (`make bench`).
//
// Generate lays N DGX-class nodes out the way an NVIDIA SuperPOD is built: racks of
// NodesPerRack nodes, pods of RacksPerPod racks (a pod of 32 racks × 4 DGX H100 is 128
// nodes, four scalable units) and facilities of RacksPerFacility racks. Every pod gets a
// rail-optimized InfiniBand compute fabric, a Slurm training cluster and a training job
// that fills it; every facility gets storage servers, a Ceph cluster, a RoCE storage
// fabric over all its nodes and an output. The hardware is written either as one
// `count` block per rack (StyleCountPerRack) or as one block per node
// (StyleBlockPerNode), and references use the ordinary language
// (`concat(hardware.r000001, …)` or `[hardware.n000001, …]`), so the benchmark
// exercises exactly what a user's configuration would.
//
// cmd/fabrica-gen writes the same files to a directory, for `fabrica validate`.
package bench
