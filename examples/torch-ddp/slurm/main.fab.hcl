# PyTorch DDP (gloo on CPU) launched through torchrun on a Slurm cluster: one torchrun
# agent per node (processes_per_node = 1), each starting 2 workers, so the DDP world is
# nodes × 2. The agents get the launch contract from fabrica (GROUP_RANK, GROUP_WORLD_SIZE,
# MASTER_ADDR, MASTER_PORT) and pass it to torchrun's static rendezvous.
#
#   scripts/slurm-up.sh && scripts/install-torch.sh     # a test cluster and torch (root)
#   fabrica -C examples/torch-ddp/slurm apply

variable "nodes" {
  type    = number
  default = 2
}

provider "slurm" {
  partition     = "debug"
  time_limit    = "15m"
  poll_interval = "500ms"
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

training_cluster "slurm" {
  facility  = facility.lab
  scheduler = "slurm"
  partition = "debug"
  hardware  = hardware.node
}

training_job "ddp" {
  cluster            = training_cluster.slurm
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
