package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/pkg/keys"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The shared step conventions of every catalog Task live here and only here:
//
//   - Tekton variables never appear in a script body. Params, workspace paths
//     and result paths reach the script as environment variables
//     (PARAM_X, WORKSPACE_X_PATH, WORKSPACE_X_BOUND, RESULT_X_PATH), so text a
//     user controls is data, not code.
//   - Shell scripts start with "set -eu" and must pass shellcheck.
//   - Steps run as non-root under a restricted securityContext, unless the
//     step is declared a root step with a reason (see rootReason).
//   - Every image comes from the pinned table in images.go.
//   - Every step has resource requests and a timeout.

// NonRootUID is the uid steps run as when their image does not set one.
// 65532 is the "nonroot" user of distroless and Tekton's own images.
const NonRootUID = 65532

// Shell is the interpreter line every shell script starts with.
const shellHeader = "#!/bin/sh\nset -eu\n"

// stepSpec describes one step; build turns it into a Tekton Step.
type stepSpec struct {
	Name  string
	Image *images.Image
	// Tool runs the step from the pipewright tool image, which the Task
	// takes as the ToolImageParam param instead of a table entry: it is
	// built by its users (see toolParam), so no digest of it can be pinned
	// here.
	Tool   bool
	Script string // body only; the header is added for shell scripts
	// Python marks a Python script (no shell header).
	Python bool
	// Command and Args run a program directly, without a shell, for images
	// that have none. Tekton variables in Args are safe there: no shell ever
	// parses them.
	Command, Args []string

	Params     []string // params passed as PARAM_<NAME>
	Workspaces []string // workspaces passed as WORKSPACE_<NAME>_PATH / _BOUND
	Results    []string // results passed as RESULT_<NAME>_PATH
	Env        []corev1.EnvVar

	WorkingDir string // may be an env reference resolved by Tekton, e.g. $(workspaces.source.path)

	CPU, Memory string        // requests; defaults 100m / 128Mi
	Timeout     time.Duration // default 10m

	// RootReason, when set, lets the step run as uid 0 with a minimal set of
	// added capabilities. It must say why; it is printed in the Task README.
	RootReason string
	RootCaps   []corev1.Capability
	// SecurityContext, when set, replaces the restricted profile for a step
	// that needs more without being root (a rootless builder); its Task
	// says why in RootSteps.
	SecurityContext *corev1.SecurityContext

	VolumeMounts []corev1.VolumeMount
	// OnError continue lets the next step judge the outcome after this one
	// has written its results.
	OnError v1.OnErrorType
	// KeepLog keeps the end of the (shell) script's output for the
	// pipeline's check run: the Task must have the LogNameParam param and
	// the source workspace (see keepLog).
	KeepLog bool
}

// EnvName maps a Tekton name (kebab or snake case) to an env var fragment.
func EnvName(name string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}

// ParamEnv is the env var a param reaches scripts through.
func ParamEnv(param string) string { return "PARAM_" + EnvName(param) }

// WorkspacePathEnv and WorkspaceBoundEnv are the env vars for a workspace.
func WorkspacePathEnv(ws string) string  { return "WORKSPACE_" + EnvName(ws) + "_PATH" }
func WorkspaceBoundEnv(ws string) string { return "WORKSPACE_" + EnvName(ws) + "_BOUND" }

// ResultEnv is the env var holding the path a result is written to.
func ResultEnv(result string) string { return "RESULT_" + EnvName(result) + "_PATH" }

func (s stepSpec) build() v1.Step {
	var env []corev1.EnvVar
	for _, p := range s.Params {
		env = append(env, corev1.EnvVar{Name: ParamEnv(p), Value: fmt.Sprintf("$(params.%s)", p)})
	}
	for _, w := range s.Workspaces {
		env = append(env,
			corev1.EnvVar{Name: WorkspacePathEnv(w), Value: fmt.Sprintf("$(workspaces.%s.path)", w)},
			corev1.EnvVar{Name: WorkspaceBoundEnv(w), Value: fmt.Sprintf("$(workspaces.%s.bound)", w)},
		)
	}
	for _, r := range s.Results {
		env = append(env, corev1.EnvVar{Name: ResultEnv(r), Value: fmt.Sprintf("$(results.%s.path)", r)})
	}
	env = append(env, s.Env...)
	// HOME must be writable for tools that keep state there (git, npm, pip,
	// go): the images' own HOME belongs to root.
	if !hasEnv(env, "HOME") {
		env = append(env, corev1.EnvVar{Name: "HOME", Value: "/tmp"})
	}
	sort.SliceStable(env, func(i, j int) bool { return env[i].Name < env[j].Name })

	script := strings.TrimLeft(s.Script, "\n")
	switch {
	case s.Script == "":
	case s.Python:
		script = "#!/usr/bin/env python3\n" + script
	case s.KeepLog:
		if !slices.Contains(s.Params, LogNameParam) || !slices.Contains(s.Workspaces, "source") {
			panic("catalog: step " + s.Name + " keeps its log without the " + LogNameParam + " param or the source workspace")
		}
		script = shellHeader + strings.TrimLeft(keepLog, "\n") + script
	default:
		script = shellHeader + script
	}

	cpu, mem := s.CPU, s.Memory
	if cpu == "" {
		cpu = "100m"
	}
	if mem == "" {
		mem = "128Mi"
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	image := ""
	switch {
	case s.Tool:
		image = "$(params." + ToolImageParam + ")"
	case s.Image != nil:
		image = s.Image.Ref()
	}
	return v1.Step{
		Name:         s.Name,
		Image:        image,
		OnError:      s.OnError,
		VolumeMounts: s.VolumeMounts,
		Env:          env,
		Script:       script,
		Command:      s.Command,
		Args:         s.Args,
		WorkingDir:   s.WorkingDir,
		ComputeResources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse(cpu),
				corev1.ResourceMemory: resource.MustParse(mem),
			},
		},
		Timeout:         &metav1.Duration{Duration: timeout},
		SecurityContext: s.securityContext(),
	}
}

func (s stepSpec) securityContext() *corev1.SecurityContext {
	if s.SecurityContext != nil {
		return s.SecurityContext
	}
	return securityContext(s.RootReason, s.RootCaps)
}

func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// securityContext is the restricted profile (Pod Security Standards
// "restricted"), or for a declared root step the least it needs.
func securityContext(rootReason string, caps []corev1.Capability) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if rootReason != "" {
		sc.RunAsUser = ptr.To[int64](0)
		sc.RunAsNonRoot = ptr.To(false)
		sc.Capabilities.Add = caps
		return sc
	}
	sc.RunAsNonRoot = ptr.To(true)
	sc.RunAsUser = ptr.To[int64](NonRootUID)
	sc.RunAsGroup = ptr.To[int64](NonRootUID)
	return sc
}

// Param helpers keep Task definitions short and uniform.

func strParam(name, desc, def string) v1.ParamSpec {
	return v1.ParamSpec{Name: name, Type: v1.ParamTypeString, Description: desc, Default: v1.NewStructuredValues(def)}
}

func reqParam(name, desc string) v1.ParamSpec {
	return v1.ParamSpec{Name: name, Type: v1.ParamTypeString, Description: desc}
}

func result(name, desc string) v1.TaskResult {
	return v1.TaskResult{Name: name, Type: v1.ResultsTypeString, Description: desc}
}

func workspace(name, desc string, optional bool) v1.WorkspaceDeclaration {
	return v1.WorkspaceDeclaration{Name: name, Description: desc, Optional: optional}
}

func paramNames(ps []v1.ParamSpec) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// sourceAndCache are the workspaces of every build and test Task: the
// checked-out source and an optional cache, shared by the tasks (or runs)
// that bind the same folder.
func sourceAndCache(cacheWhat string) []v1.WorkspaceDeclaration {
	return []v1.WorkspaceDeclaration{
		workspace("source", "The checked-out source.", false),
		workspace("cache", "Optional cache ("+cacheWhat+"), shared by the tasks, or runs, that bind the same folder.", true),
	}
}

// ToolImageParam is the param of Tasks whose steps run pipewright itself
// (go-image, canary-release). It has no default on purpose: the tool image
// is built and pushed by the team that installs the catalog, and a default
// would have to be a digest nobody published.
const ToolImageParam = keys.ParamPipewrightImage

// ToolBinary is where the pipewright tool image keeps its program
// (pkg/image puts a Go main package's binary at /app/<name>).
const ToolBinary = "/app/pipewright"

func toolParam() v1.ParamSpec {
	return reqParam(ToolImageParam, "The pipewright tool image, pinned by digest (REPO@sha256:...). Build and push it from pipewright's source with `pipewright image build --image REPO --platform linux/amd64,linux/arm64 ./cmd/pipewright`; the last line it prints is the value.")
}

func contextParam() v1.ParamSpec {
	return strParam("context", "Folder inside the source workspace to run in.", ".")
}
