package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
)

// Formats are the output formats Write knows.
var Formats = []string{"human", "json", "sarif"}

// Write prints findings in format.
func Write(w io.Writer, format string, findings []Finding) error {
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
		return encode(w, SARIF(findings))
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
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
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
	DefaultConfiguration map[string]string `json:"defaultConfiguration"`
	Properties           map[string]any    `json:"properties"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region struct {
			StartLine   int `json:"startLine"`
			StartColumn int `json:"startColumn"`
		} `json:"region"`
	} `json:"physicalLocation"`
}

// SARIF builds the SARIF 2.1.0 log for findings, listing every rule so code
// scanning can show help for rules that found nothing this time.
func SARIF(findings []Finding) any {
	driver := sarifDriver{Name: "pipewright", InformationURI: "https://github.com/pipewright/pipewright"}
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
			DefaultConfiguration: map[string]string{"level": r.Severity.String()},
			Properties:           props,
		})
	}
	results := []sarifResult{}
	for _, f := range findings {
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = uri(f.File)
		loc.PhysicalLocation.Region.StartLine = max(f.Line, 1)
		loc.PhysicalLocation.Region.StartColumn = max(f.Column, 1)
		results = append(results, sarifResult{
			RuleID: "pipewright/" + f.Rule, RuleIndex: index[f.Rule], Level: f.Severity.String(),
			Message: sarifText{Text: f.Message}, Locations: []sarifLocation{loc},
		})
	}
	return sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}
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
	if file == "-" {
		return "stdin"
	}
	u := url.URL{Path: filepath.ToSlash(filepath.Clean(file))}
	return u.String()
}
