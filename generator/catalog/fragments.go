package catalog

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
