// Package verify compares builds of a container image and explains every
// difference in terms a Nix user can act on.
//
// The comparison runs in the order of the design's pipeline:
//
//   - inputs (inputs.go): the image .drv paths of the builds. Different
//     paths mean the builders evaluated different inputs; the derivations the
//     records carry are diffed recursively, as nix-diff does.
//   - digests (records.go): config digest, diff_ids, compressed digests (only
//     between builds that used the same compressor) and manifest digest.
//     Records with equal digests form a group; the largest is the
//     reference, and one build of every other group is diffed against it.
//     The images are opened only then, and each once (Options.OpenImage,
//     RecordImages, check.go), and checked against their records.
//   - the deep diff (config.go, layers.go): every config field, and the
//     layers as tar streams, entry by entry and byte by byte, in parallel
//     across layer pairs with memory bounded by a fixed sample budget;
//     against several groups, each reference layer is read once for all
//     (deepmany.go).
//   - attribution (attribute.go): each differing file to its
//     /nix/store/<hash>-<name> store path, that to its deriver, grouped into
//     culprits with the likely causes (per file and per culprit) and the
//     command that confirms them;
//     store paths that differ only because they embed, depend on or copy
//     another culprit are consequences (consequence.go), listed after the
//     root causes; causes are recognised inside gzip, zip and binaries
//     (formats.go). Text and Markdown summarize the differences by root
//     cause (summary.go).
//
// The result is a Report (report.go, schema nixdock.dev/report/v1,
// documented in docs/report.md), rendered as text, JSON or Markdown
// (render.go). Reports are deterministic: everything listed is sorted, and
// nothing reads the clock.
package verify
