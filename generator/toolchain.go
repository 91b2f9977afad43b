package generator

// MinPatchedGo is the oldest Go release whose standard library has none of the vulnerabilities
// known to the vulnerability database gingen's CI reads (VULNDB_VERSION in .ci/run): generated
// projects' READMEs tell users to build with it or later, and their Dockerfiles build with it.
// CI's vulnerability gate fails when a finding is fixed only in a later release
// (internal/vulngate -min-go), so a newer database makes this constant follow.
//
// It is not written into generated go.mod files as a toolchain line: see README.md, "Go
// toolchain".
const MinPatchedGo = "1.26.10"
