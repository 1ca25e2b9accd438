package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("git-clone", gitClone) }

func gitClone() Entry {
	params := []v1.ParamSpec{
		reqParam("url", "Repository URL to clone."),
		strParam("revision", "Commit, branch or tag to check out. Empty means the remote's default branch (HEAD).", ""),
		strParam("refspec", "Extra refspec to fetch before the revision, e.g. refs/pull/42/head.", ""),
		strParam("depth", "Fetch depth; 0 fetches the whole history.", "1"),
		strParam("submodules", "Initialise and fetch submodules (true/false).", "true"),
		strParam("subdirectory", "Folder inside the output workspace to clone into (relative, no ..).", ""),
		strParam("delete-existing", "Empty the target folder before cloning (true/false).", "true"),
		strParam("ssl-verify", "Verify the server's TLS certificate (true/false).", "true"),
	}
	return Entry{
		Name:        "git-clone",
		Version:     "0.1",
		DisplayName: "Git Clone",
		Categories:  []string{"Git"},
		Tags:        []string{"git"},
		Summary:     "Clones a Git repository into a workspace and reports the commit it checked out.",
		Details: "Fetches only what is needed (shallow by default), checks out a commit, branch or tag, " +
			"optionally with submodules, and writes the commit sha, the URL and the committer date as results. " +
			"Credentials come from optional ssh-directory (a .ssh folder) or basic-auth (.gitconfig and .git-credentials) workspaces.",
		Spec: v1.TaskSpec{
			Params: params,
			Workspaces: []v1.WorkspaceDeclaration{
				workspace("output", "The repository is cloned here.", false),
				workspace("ssh-directory", "A .ssh folder (private key, known_hosts) for SSH URLs.", true),
				workspace("basic-auth", "A .gitconfig and .git-credentials for HTTPS URLs.", true),
			},
			Results: []v1.TaskResult{
				result("commit", "The sha of the commit checked out."),
				result("url", "The URL that was cloned."),
				result("committer-date", "The commit's committer date, in seconds since the epoch."),
			},
			Steps: []v1.Step{stepSpec{
				Name:       "clone",
				Image:      images.GitInit,
				Params:     paramNames(params),
				Workspaces: []string{"output", "ssh-directory", "basic-auth"},
				Results:    []string{"commit", "url", "committer-date"},
				Timeout:    10 * time.Minute,
				Script:     gitCloneScript,
			}.build()},
		},
		Example: map[string]string{"url": "https://github.com/pipewright/example-go", "revision": "main"},
		Writes:  []string{"output"},
	}
}

const gitCloneScript = `
case "${PARAM_SUBDIRECTORY}" in
  /*|..|../*|*/..|*/../*)
    echo "subdirectory must be a relative path without '..': ${PARAM_SUBDIRECTORY}" >&2
    exit 1 ;;
esac

if [ "${WORKSPACE_BASIC_AUTH_BOUND}" = "true" ]; then
  cp "${WORKSPACE_BASIC_AUTH_PATH}/.git-credentials" "${HOME}/.git-credentials"
  cp "${WORKSPACE_BASIC_AUTH_PATH}/.gitconfig" "${HOME}/.gitconfig"
  chmod 400 "${HOME}/.git-credentials"
fi
if [ "${WORKSPACE_SSH_DIRECTORY_BOUND}" = "true" ]; then
  mkdir -p "${HOME}/.ssh"
  cp -R "${WORKSPACE_SSH_DIRECTORY_PATH}/." "${HOME}/.ssh/"
  chmod 700 "${HOME}/.ssh"
  chmod -R 400 "${HOME}"/.ssh/*
fi

checkout="${WORKSPACE_OUTPUT_PATH}"
if [ -n "${PARAM_SUBDIRECTORY}" ]; then
  checkout="${checkout}/${PARAM_SUBDIRECTORY}"
fi
if [ "${PARAM_DELETE_EXISTING}" = "true" ] && [ -d "${checkout}" ]; then
  find "${checkout}" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi
mkdir -p "${checkout}"
cd "${checkout}"

# The workspace may belong to another uid; trust it explicitly.
git config --global --add safe.directory "${checkout}"
git config --global http.sslVerify "${PARAM_SSL_VERIFY}"
git init -q
git remote remove origin 2>/dev/null || true
git remote add origin "${PARAM_URL}"

if [ "${PARAM_DEPTH}" = "0" ]; then
  set --
else
  set -- --depth "${PARAM_DEPTH}"
fi
if [ -n "${PARAM_REFSPEC}" ]; then
  git fetch -q "$@" origin "${PARAM_REFSPEC}"
fi
git fetch -q "$@" origin "${PARAM_REVISION:-HEAD}"
git checkout -q --force FETCH_HEAD

if [ "${PARAM_SUBMODULES}" = "true" ] && [ -f .gitmodules ]; then
  git submodule update -q --init --recursive "$@"
fi

printf '%s' "$(git rev-parse HEAD)" > "${RESULT_COMMIT_PATH}"
printf '%s' "${PARAM_URL}" > "${RESULT_URL_PATH}"
printf '%s' "$(git log -1 --format=%ct)" > "${RESULT_COMMITTER_DATE_PATH}"
echo "cloned ${PARAM_URL} at $(git rev-parse HEAD)"
`
