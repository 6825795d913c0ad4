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
  if srun --mpi=list 2>&1 | grep -q pmix; then launcher=srun; else launcher=mpirun; fi
fi

launch() {
  if [[ "$launcher" == srun ]]; then
    srun --mpi=pmix "$@"
  else
    mpirun --bind-to none "$@"
  fi
}

# Runs a training command; when it stopped on request (SIGUSR1/SIGTERM before a time
# limit or preemption: exit 75, after a checkpoint), requeues this job, which resumes from
# the checkpoint when it starts again (the commands pass --resume auto).
train_or_requeue() {
  local status=0
  launch "$@" || status=$?
  if [[ $status -eq 75 ]]; then
    echo "landslide: checkpointed on request; requeueing job $SLURM_JOB_ID"
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
  fi
  return $status
}
