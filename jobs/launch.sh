# Sourced by the batch scripts in jobs/: how to start MPI ranks inside an allocation.
#
# `launch CMD…` runs CMD as the allocation's tasks: `srun --mpi=pmix` where SLURM offers
# PMIx (Debian, most sites), otherwise OpenMPI's `mpirun`, which reads the allocation from
# SLURM itself. LANDSLIDE_LAUNCHER=srun|mpirun forces one. Compute threads per rank come
# from --cpus-per-task (landslide reads SLURM_CPUS_PER_TASK).

landslide=${LANDSLIDE_BIN:-"${SLURM_SUBMIT_DIR:-.}/.build/release/landslide"}
export OPENBLAS_NUM_THREADS=1 # the engine runs its own threads; BLAS itself stays serial

launcher=${LANDSLIDE_LAUNCHER:-}
if [[ -z "$launcher" ]]; then
  mpi_types=$(srun --mpi=list 2>&1 || true) # not a pipe into grep -q: pipefail + SIGPIPE
  if [[ "$mpi_types" == *pmix* ]]; then launcher=srun; else launcher=mpirun; fi
fi

if [[ "$launcher" == srun ]]; then
  # Since SLURM 22.05 srun no longer inherits --cpus-per-task from the allocation.
  launch_prefix=(srun --mpi=pmix --cpus-per-task="${SLURM_CPUS_PER_TASK:-1}")
else
  launch_prefix=(mpirun --bind-to none)
fi

launch() { "${launch_prefix[@]}" "$@"; }

# Runs a training or sweep command in the background and hands SIGUSR1/SIGTERM (SLURM's warning
# before a time limit or preemption, sent to this batch shell by --signal=B:USR1@…) on to
# it; srun and mpirun pass them to the ranks. When training stopped on request (exit 75,
# after a checkpoint) the job requeues itself and resumes from the checkpoint when it
# starts again (the commands pass --resume auto).
train_or_requeue() {
  local status=0 pid
  "${launch_prefix[@]}" "$@" & # a simple command, so that $! is srun or mpirun itself
  pid=$!
  trap 'kill -USR1 "$pid" 2>/dev/null || true' USR1
  trap 'kill -TERM "$pid" 2>/dev/null || true' TERM
  # `wait` returns early when a trapped signal arrives; wait again until the launcher ends.
  while :; do
    if wait "$pid"; then status=0; else status=$?; fi
    kill -0 "$pid" 2>/dev/null || break
  done
  trap - USR1 TERM
  if [[ $status -eq 75 ]]; then
    echo "landslide: checkpointed on request; requeueing job ${SLURM_JOB_ID:?not in a SLURM job}"
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
  fi
  return $status
}
