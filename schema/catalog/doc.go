// Package catalog owns fabrica's built-in device catalog: the server models
// (DGX systems, a rack-scale GB200 NVL72, a generic CPU server and a storage
// server) that a configuration can name in device_type without declaring
// them first.
//
// Figures come from the catalog table in shared/domain.md §1; every entry
// cites its source ids ([S1], [S2], …) and marks our own unsourced choices as
// "proposal". The package is a leaf: it imports nothing from the module.
//
// It does not decode device_type blocks, merge user overrides or validate
// anything; the schema package does that on top of Builtin, which hands out
// a fresh copy so the caller may add or replace entries freely. Derived
// figures (rack load, fabric size, memory fit) live in schema/derive.
package catalog
