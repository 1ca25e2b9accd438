package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
)

// Formats are the output formats Write knows.
var Formats = []string{"human", "json", "sarif"}

// Write prints findings in format.
func Write(w io.Writer, format string, findings []Finding) error {
	return WriteReport(w, format, Report{Findings: findings})
}

// WriteReport prints a run's findings in format; SARIF also records the
// summary in its invocation.
func WriteReport(w io.Writer, format string, rep Report) error {
	findings := rep.Findings
	switch format {
	case "human", "":
		for _, f := range findings {
			if _, err := fmt.Fprintln(w, f); err != nil {
				return err
			}
		}
		return nil
	case "json":
		type jf struct {
			Finding
			Severity string `json:"severity"`
			Fix      string `json:"fix"`
		}
		out := make([]jf, 0, len(findings))
		for _, f := range findings {
			out = append(out, jf{f, f.Severity.String(), rulesByID[f.Rule].Fix})
		}
		return encode(w, out)
	case "sarif":
		return encode(w, sarifReport(rep))
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

func encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// SARIF 2.1.0, the subset GitHub code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	Invocations        []sarifInvocation           `json:"invocations"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult               `json:"results"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	Properties                 map[string]any      `json:"properties,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	FullDescription      sarifText         `json:"fullDescription"`
	Help                 sarifText         `json:"help"`
	HelpURI              string            `json:"helpUri"`
	DefaultConfiguration map[string]string `json:"defaultConfiguration"`
	Properties           map[string]any    `json:"properties"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
		Region           struct {
			StartLine   int `json:"startLine"`
			StartColumn int `json:"startColumn"`
		} `json:"region"`
	} `json:"physicalLocation"`
}

// Version is the pipewright version SARIF names as driver.version: the
// module version of the binary, "devel" for a build from a checkout.
var Version = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}()

// HelpURI is where a rule's documentation lives (docs/lint-rules.md, made
// from Rules and checked by the tests).
func HelpURI(id string) string {
	return "https://github.com/pipewright/pipewright/blob/main/docs/lint-rules.md#" + id
}

// srcRoot is the uriBaseId of repository-relative URIs.
const srcRoot = "%SRCROOT%"

// SARIF builds the SARIF 2.1.0 log for findings, listing every rule so code
// scanning can show help for rules that found nothing this time.
func SARIF(findings []Finding) any {
	return sarifReport(Report{Findings: findings, Summary: newSummary()})
}

func sarifReport(rep Report) sarifLog {
	driver := sarifDriver{Name: "pipewright", Version: Version, InformationURI: "https://github.com/pipewright/pipewright"}
	index := map[string]int{}
	for i, r := range Rules {
		index[r.ID] = i
		props := map[string]any{"tags": []string{"tekton"}}
		if r.Security != "" {
			props["security-severity"] = r.Security
			props["tags"] = []string{"tekton", "security"}
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID:                   "pipewright/" + r.ID,
			Name:                 ruleName(r.ID),
			ShortDescription:     sarifText{Text: r.Short},
			FullDescription:      sarifText{Text: r.Explain},
			Help:                 sarifText{Text: r.Explain + "\n\nFix: " + r.Fix, Markdown: r.Explain + "\n\n**Fix:** " + r.Fix},
			HelpURI:              HelpURI(r.ID),
			DefaultConfiguration: map[string]string{"level": r.Severity.String()},
			Properties:           props,
		})
	}
	root := repoRoot()
	results := []sarifResult{}
	seen := map[string]int{}
	for _, f := range rep.Findings {
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation = artifact(f.File, root)
		loc.PhysicalLocation.Region.StartLine = max(f.Line, 1)
		loc.PhysicalLocation.Region.StartColumn = max(f.Column, 1)
		results = append(results, sarifResult{
			RuleID: "pipewright/" + f.Rule, RuleIndex: index[f.Rule], Level: f.Severity.String(),
			Message: sarifText{Text: f.Message}, Locations: []sarifLocation{loc},
			PartialFingerprints: map[string]string{"pipewright/v1": fingerprint(f, loc.PhysicalLocation.ArtifactLocation.URI, seen)},
		})
	}
	inv := sarifInvocation{ExecutionSuccessful: true, Properties: map[string]any{"summary": rep.Summary}}
	for _, reason := range slices.Sorted(maps.Keys(rep.Summary.Skipped)) {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level: "note", Message: sarifText{Text: fmt.Sprintf("skipped %d document(s): %s", rep.Summary.Skipped[reason], reason)}})
	}
	for _, reason := range slices.Sorted(maps.Keys(rep.Summary.SkippedFiles)) {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level: "warning", Message: sarifText{Text: fmt.Sprintf("skipped %d file(s): %s", rep.Summary.SkippedFiles[reason], reason)}})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Invocations: []sarifInvocation{inv}, Results: results}
	if root != "" {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{srcRoot: {URI: (&url.URL{Scheme: "file", Path: filepath.ToSlash(root) + "/"}).String()}}
	}
	return sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	}
}

// fingerprint identifies a finding across runs for code scanning's alert
// tracking: rule, file, message and the finding's line text, not its line
// number, so an edit above it does not make a new alert; repeats of the same
// finding in a file are numbered.
func fingerprint(f Finding, uri string, seen map[string]int) string {
	h := sha256.Sum256([]byte(f.Rule + "\x00" + uri + "\x00" + f.Message + "\x00" + f.context))
	key := hex.EncodeToString(h[:8])
	seen[key]++
	return fmt.Sprintf("%s:%d", key, seen[key])
}

// repoRoot is the folder of the repository the current folder is in (the
// nearest one with .git), "" outside one.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// artifact is a file's location: relative to the repository root (with
// uriBaseId %SRCROOT%) when it is inside it, else an absolute file URI.
func artifact(file, root string) sarifArtifactLoc {
	if file == "-" {
		return sarifArtifactLoc{URI: "stdin"}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return sarifArtifactLoc{URI: uri(file)}
	}
	if root != "" {
		if rel, err := filepath.Rel(root, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return sarifArtifactLoc{URI: uri(rel), URIBaseID: srcRoot}
		}
	}
	return sarifArtifactLoc{URI: (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()}
}

// ruleName is the rule id in PascalCase, as SARIF viewers expect names.
func ruleName(id string) string {
	var b strings.Builder
	for _, p := range strings.Split(id, "-") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// uri is a relative, slash-separated file URI reference.
func uri(file string) string {
	u := url.URL{Path: filepath.ToSlash(filepath.Clean(file))}
	return u.String()
}
