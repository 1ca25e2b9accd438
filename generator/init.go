package generator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pipewright/pipewright/generator/buildpack"
	"github.com/pipewright/pipewright/generator/config"
)

// InitOptions tune Init.
type InitOptions struct {
	Repo   string // owner/name; detected from .git/config when empty
	Branch string // default branch; detected from .git/HEAD when empty, else main
	Force  bool   // overwrite an existing pipewright.yaml
}

// InitResult is what Init wrote.
type InitResult struct {
	Path     string
	Detected buildpack.Detected
	Config   *config.Config
}

var remoteRe = regexp.MustCompile(`github\.com[:/]([A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?\s*$`)

// commonPack is the pack most services use (the first in Packs' order on a
// tie): the config's build.pack, which services of other packs override.
func commonPack(services []buildpack.Service) string {
	n := map[string]int{}
	for _, s := range services {
		n[s.Pack]++
	}
	best := ""
	for _, p := range buildpack.Packs {
		if best == "" || n[p.Name] > n[best] {
			best = p.Name
		}
	}
	return best
}

// serviceName names a service after its folder, or the folder above a
// src/ or app/ one (src/cartservice/src is cartservice).
func serviceName(dir string) string {
	parts := strings.Split(dir, "/")
	i := len(parts) - 1
	for i > 0 && (parts[i] == "src" || parts[i] == "app") {
		i--
	}
	return buildpack.AppName(parts[i])
}

func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// Init detects the project in dir and writes a commented pipewright.yaml.
// It never overwrites an existing file unless opts.Force.
func Init(dir string, opts InitOptions) (InitResult, error) {
	target := filepath.Join(dir, "pipewright.yaml")
	if _, err := os.Stat(target); err == nil && !opts.Force {
		return InitResult{}, fmt.Errorf("%s already exists; use --force to overwrite it", target)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return InitResult{}, err
	}
	det, err := buildpack.Detect(dir)
	// Two or more folders with projects of their own make a monorepo; the
	// root's own manifest (a workspace) does not make it one project.
	services := buildpack.DetectServices(dir)
	if len(services) < 2 {
		services = nil
		if err != nil {
			return InitResult{}, err
		}
	} else if err != nil || det.Pack == "docker" {
		det = buildpack.Detected{Pack: commonPack(services), Name: filepath.Base(absDir(dir)), NameFromDir: true}
	}
	if services != nil {
		det.Facts = append(det.Facts, fmt.Sprintf("monorepo: %d services (folders with their own manifest or Dockerfile)", len(services)))
		for _, s := range services {
			det.Facts = append(det.Facts, fmt.Sprintf("service %s: %s pack: %s", s.Dir, s.Pack, strings.Join(s.Facts, "; ")))
		}
	}
	repo, branch := opts.Repo, opts.Branch
	if gitCfg, err := os.ReadFile(filepath.Join(dir, ".git", "config")); err == nil && repo == "" {
		for _, line := range strings.Split(string(gitCfg), "\n") {
			if m := remoteRe.FindStringSubmatch(strings.TrimSpace(line)); m != nil && strings.Contains(line, "url") {
				repo = m[1]
				break
			}
		}
	}
	if head, err := os.ReadFile(filepath.Join(dir, ".git", "HEAD")); err == nil && branch == "" {
		branch = strings.TrimPrefix(strings.TrimSpace(string(head)), "ref: refs/heads/")
	}
	app := buildpack.AppName(det.Name)
	if det.NameFromDir && repo != "" {
		// A folder name says little (a checkout can be called anything);
		// the repository's name is what the project calls itself.
		app = buildpack.AppName(repo[strings.Index(repo, "/")+1:])
	}
	header := []string{"pipewright.yaml: what `pipewright generate` builds CI/CD from.", "Detected:"}
	for _, f := range det.Facts {
		header = append(header, "- "+f)
	}
	if repo == "" {
		repo = Placeholder + "/" + app
		header = append(header, "No GitHub remote found: set github.repository and image.repository (generate refuses the "+Placeholder+" placeholder).")
	}
	c := &config.Config{
		APIVersion: config.APIVersion,
		App:        config.App{Name: app, Namespace: "default"},
		Build: config.Build{
			Pack:    det.Pack,
			Version: det.Version,
			Lint:    config.TaskTweak{Disabled: det.LintDisabled},
			Test:    config.TaskTweak{Params: det.TestParams, Disabled: det.TestDisabled},
		},
		Image:  config.Image{Repository: "ghcr.io/" + strings.ToLower(repo)},
		GitHub: config.GitHub{Repository: repo, DefaultBranch: branch},
	}
	if c.GitHub.DefaultBranch == "" {
		c.GitHub.DefaultBranch = "main"
	}
	if len(c.Build.Test.Params) == 0 {
		c.Build.Test.Params = nil
	}
	for _, s := range services {
		sv := config.Service{Name: serviceName(s.Dir), Context: s.Dir, Version: s.Version, ImageContext: s.ImageContext}
		if s.Pack != c.Build.Pack {
			sv.Pack = s.Pack
		}
		if s.LintDisabled {
			sv.Lint = &config.TaskTweak{Disabled: true}
		}
		if s.TestDisabled || len(s.TestParams) > 0 {
			sv.Test = &config.TaskTweak{Disabled: s.TestDisabled, Params: s.TestParams}
			if len(sv.Test.Params) == 0 {
				sv.Test.Params = nil
			}
		}
		c.Services = append(c.Services, sv)
	}
	if services != nil {
		// The services carry the lint and test tweaks of their own packs.
		c.Build.Lint, c.Build.Test, c.Build.Version = config.TaskTweak{}, config.TaskTweak{}, ""
	}
	out, err := config.Marshal(c, header)
	if err != nil {
		return InitResult{}, err
	}
	// What init writes must load: a bug here must not reach the user's file.
	if _, err := config.Parse(target, out); err != nil {
		return InitResult{}, fmt.Errorf("init produced an invalid config (a pipewright bug): %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".pipewright.yaml-")
	if err != nil {
		return InitResult{}, fmt.Errorf("write %s: %w", target, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return InitResult{}, fmt.Errorf("write %s: %w", target, err)
	}
	if err := tmp.Close(); err != nil {
		return InitResult{}, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return InitResult{}, err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return InitResult{}, fmt.Errorf("write %s: %w", target, err)
	}
	return InitResult{Path: target, Detected: det, Config: c}, nil
}
