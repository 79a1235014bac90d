# PyTorch DDP (gloo on CPU) launched through torchrun on this machine (the local
# scheduler): one torchrun agent (processes_per_node = 1) starting 2 workers, so the DDP
# world is 2; the command is the same as on Slurm (../slurm), only the scheduler differs. The agents get the launch contract from fabrica (GROUP_RANK, GROUP_WORLD_SIZE,
# MASTER_ADDR, MASTER_PORT) and pass it to torchrun's static rendezvous.
#
#   scripts/install-torch.sh                            # torch (root)
#   fabrica -C examples/torch-ddp/local apply

variable "nodes" {
  type    = number
  default = 1
}

facility "lab" {
  it_power_kw  = 20
  design_pue   = 1.3
  region       = "eu-central"
  jurisdiction = "de"
  rack_cooling = "air"
}

hardware "node" {
  count       = var.nodes
  facility    = facility.lab
  device_type = "cpu-server"
  rack        = "lab-r01"
}

training_cluster "local" {
  facility  = facility.lab
  scheduler = "local"
  hardware  = hardware.node
}

training_job "ddp" {
  cluster            = training_cluster.local
  nodes              = var.nodes
  processes_per_node = 1    # one torchrun agent per node
  workdir            = ".." # examples/torch-ddp, where ddp.py is
  env                = { OMP_NUM_THREADS = "1" }
  wait               = "completed"
  command = ["bash", "-c", join(" ", [
    "exec /usr/bin/python3 -m torch.distributed.run",
    "--nnodes=$GROUP_WORLD_SIZE --node_rank=$GROUP_RANK --nproc_per_node=2",
    "--master_addr=$MASTER_ADDR --master_port=$MASTER_PORT --monitor_interval=1",
    "ddp.py --steps 30",
  ])]
}
