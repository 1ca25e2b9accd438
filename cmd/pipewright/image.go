package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/pipewright/pipewright/pkg/image"
	"github.com/pipewright/pipewright/pkg/images"
	"github.com/pipewright/pipewright/pkg/pin"
	"github.com/spf13/cobra"
)

func imageCmd() *cobra.Command {
	c := &cobra.Command{Use: "image", Short: "Build and push Go service images without a Docker daemon"}
	c.AddCommand(imageBuildCmd())
	return c
}

func imageBuildCmd() *cobra.Command {
	var (
		o                   image.Options
		platforms, sbom     string
		urlFile, digestFile string
	)
	c := &cobra.Command{
		Use:   "build --image REPO [--base REF] [--platform P,...] PACKAGE",
		Short: "Compile a Go main package, layer it onto a base image and push it by digest",
		Long: "Compiles PACKAGE with CGO_ENABLED=0 -trimpath per platform, appends the binary at /app/<name> (--app-dir) to the\n" +
			"base image (--base, else $" + image.BaseEnv + ", else the catalog's distroless static image),\n" +
			"runs as user " + image.User + ", stamps SOURCE_DATE_EPOCH or the commit time, pushes by digest\n" +
			"(an index for several platforms) and attaches an SPDX SBOM under the sha256-<digest>.sbom tag.\n" +
			"The last line printed is REPO@sha256:….",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch sbom {
			case "spdx":
				o.SBOM = true
			case "none":
			default:
				return fmt.Errorf("--sbom %q: want spdx or none", sbom)
			}
			if platforms != "" {
				o.Platforms = strings.Split(platforms, ",")
			}
			o.Log = cmd.ErrOrStderr()
			res, err := image.Build(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			if err := writeResult(urlFile, res.Ref.Context().Name()); err != nil {
				return err
			}
			if err := writeResult(digestFile, res.Digest.String()); err != nil {
				return err
			}
			for _, t := range res.SBOMs {
				fmt.Fprintf(cmd.ErrOrStderr(), "sbom %s\n", t)
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.Ref.String())
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.Repo, "image", "", "repository to push to (registry/path, no tag)")
	f.StringVar(&o.Base, "base", "", "base image reference (default $"+image.BaseEnv+" or the catalog's distroless static)")
	f.StringVar(&platforms, "platform", "", "comma-separated os/arch[/variant] list (default linux/amd64)")
	f.StringVar(&sbom, "sbom", "spdx", "SBOM to attach: spdx or none")
	f.BoolVar(&o.NoPush, "no-push", false, "build and print the digest without pushing (pull-request builds)")
	f.StringSliceVar(&o.Tags, "tag", nil, "also point these tags at the result")
	f.StringVar(&o.Source, "source", "", "org.opencontainers.image.source label (repository URL)")
	f.StringVar(&o.Revision, "revision", "", "org.opencontainers.image.revision label (default: git HEAD)")
	f.StringVar(&o.AppDir, "app-dir", image.AppDir, "folder the binary is placed in and PATH starts with (ko's layout is /ko-app)")
	f.StringVar(&urlFile, "image-url-file", "", "write the IMAGE_URL result (the repository) to this file")
	f.StringVar(&digestFile, "image-digest-file", "", "write the IMAGE_DIGEST result (sha256:…) to this file")
	_ = c.MarkFlagRequired("image")
	return c
}

func writeResult(path, value string) error {
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

func pinCmd() *cobra.Command {
	var (
		file      string
		check     bool
		fromTable bool
		mirrors   []string
	)
	c := &cobra.Command{
		Use:   "pin [--check] [--file images.lock.json]",
		Short: "Resolve every image in the catalog's image table to a digest and write the lock file",
		Long: "Asks each registry (HEAD, then GET, of the manifest; credentials from the Docker keychain) for the\n" +
			"digest behind every tag in the image table and writes them to the lock file. With --check, fails\n" +
			"when the lock no longer matches the table or the registry (a moved tag).\n\n" +
			"The catalog's own lock is " + images.LockFile + " (make pin, make pin-check); it is embedded\n" +
			"when pipewright is built, and generation reads digests only from it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := pin.Options{Mirrors: map[string]string{}}
			for _, m := range mirrors {
				from, to, ok := strings.Cut(m, "=")
				if !ok || from == "" || to == "" {
					return fmt.Errorf("--mirror %q: want FROM=TO, e.g. docker.io=mirror.local:5000/dockerhub", m)
				}
				o.Mirrors[from] = to
			}
			// The toolchain versions are pinned like the table.
			table := append(images.All(), images.Toolchains()...)
			if check {
				l, err := pin.Read(file)
				if err != nil {
					return err
				}
				if err := pin.Check(cmd.Context(), l, table, o); err != nil {
					return fmt.Errorf("pin --check: %s is stale:\n%w", file, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "pin: %s matches the registry for %d images\n", file, len(l.Images))
				return nil
			}
			l := pin.FromTable(table)
			if !fromTable {
				var err error
				if l, err = pin.Resolve(cmd.Context(), table, o); err != nil {
					return err
				}
			}
			if err := l.Write(file); err != nil {
				return err
			}
			for _, e := range l.Images {
				fmt.Fprintln(cmd.OutOrStdout(), e.Ref())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d images)\n", file, len(l.Images))
			return nil
		},
	}
	c.Flags().StringVarP(&file, "file", "f", pin.DefaultFile, "lock file path")
	c.Flags().BoolVar(&check, "check", false, "fail when the lock file no longer matches the registry")
	c.Flags().BoolVar(&fromTable, "from-table", false, "write the digests this pipewright was built with (its embedded lock) without asking any registry; verify later with --check")
	c.Flags().StringArrayVar(&mirrors, "mirror", nil, "fetch repositories under FROM from TO instead (FROM=TO, repeatable)")
	return c
}
