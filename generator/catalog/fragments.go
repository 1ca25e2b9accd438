package catalog

import (
	"strconv"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"

	"github.com/pipewright/pipewright/pkg/keys"
)

// Script fragments shared by Tasks of one language. They are plain shell and
// use only the env vars step.go sets.

// enterSource changes into the source workspace, then the context folder.
const enterSource = `
cd "${WORKSPACE_SOURCE_PATH}/${PARAM_CONTEXT}"
`

// goCache points Go's module and build caches (and golangci-lint's) at the
// optional cache workspace, so the tasks (or runs) binding it share them.
const goCache = `
if [ "${WORKSPACE_CACHE_BOUND}" = "true" ]; then
  export GOMODCACHE="${WORKSPACE_CACHE_PATH}/go/mod"
  export GOCACHE="${WORKSPACE_CACHE_PATH}/go/build"
  export GOLANGCI_LINT_CACHE="${WORKSPACE_CACHE_PATH}/golangci-lint"
else
  export GOMODCACHE="${HOME}/go/mod" GOCACHE="${HOME}/go/build"
fi
`

// trustCheckout lets git read a checkout that belongs to another uid: on a
// claim, the folder keeps the owner the clone step or the volume gave it and
// only its group follows fsGroup, and git then refuses it ("dubious
// ownership", exit 128), which makes go build's VCS stamping fail. The
// pattern covers the repository's top folder, whatever the context subfolder
// is; HOME is the step's own.
const trustCheckout = `
git config --global --add safe.directory '*'
`

// LogNameParam is the param of Tasks whose step keeps its output for the
// pipeline's check run (stepSpec.KeepLog); pipelines pass their task's name.
const LogNameParam = "log-name"

func logNameParam() v1.ParamSpec {
	return strParam(LogNameParam, "Keep the last "+strconv.Itoa(keys.TaskLogBytes>>10)+" KiB of the step's output, and its start, end and exit code, as NAME.log and NAME.status in the source workspace's "+keys.TaskLogDir+", for the pipeline's check run (read in finally); a-z, 0-9 and -. Empty: keep nothing.", "")
}

// keepLog runs before a KeepLog step's script: with a log name, the
// script's stdout and stderr go through a FIFO to tee, which shows them as
// usual and hands them to tail, which keeps the last bytes (so the file
// stays bounded however much a test prints). On exit, the trap closes the
// FIFO, waits for tail to write the log, and records start, end and exit
// code; the script's exit code is kept.
var keepLog = `
case "${PARAM_LOG_NAME}" in
  *[!a-z0-9-]*) echo "log-name must be a-z, 0-9 and -: ${PARAM_LOG_NAME}" >&2; exit 1 ;;
esac
if [ -n "${PARAM_LOG_NAME}" ]; then
  pw_logs="${WORKSPACE_SOURCE_PATH}/` + keys.TaskLogDir + `"
  mkdir -p "${pw_logs}"
  pw_fifo="$(mktemp -d)/output"
  mkfifo "${pw_fifo}"
  pw_start=$(date +%s)
  exec 3>&1 4>&2
  tee /dev/fd/3 <"${pw_fifo}" | tail -c ` + strconv.Itoa(keys.TaskLogBytes) + ` >"${pw_logs}/${PARAM_LOG_NAME}.log" &
  exec >"${pw_fifo}" 2>&1
  pw_rc=0
  trap 'pw_rc=$?; exec >&3 2>&4; wait; printf "%s %s %s\\n" "${pw_start}" "$(date +%s)" "${pw_rc}" >"${pw_logs}/${PARAM_LOG_NAME}.status"; exit "${pw_rc}"' EXIT
fi
`
