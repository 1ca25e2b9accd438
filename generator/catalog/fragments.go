package catalog

// Script fragments shared by Tasks of one language. They are plain shell and
// use only the env vars step.go sets.

// enterSource changes into the source workspace, then the context folder.
const enterSource = `
cd "${WORKSPACE_SOURCE_PATH}/${PARAM_CONTEXT}"
`

// goCache points Go's module and build caches (and golangci-lint's) at the
// optional cache workspace, so runs share them.
const goCache = `
if [ "${WORKSPACE_CACHE_BOUND}" = "true" ]; then
  export GOMODCACHE="${WORKSPACE_CACHE_PATH}/go/mod"
  export GOCACHE="${WORKSPACE_CACHE_PATH}/go/build"
  export GOLANGCI_LINT_CACHE="${WORKSPACE_CACHE_PATH}/golangci-lint"
else
  export GOMODCACHE="${HOME}/go/mod" GOCACHE="${HOME}/go/build"
fi
`
