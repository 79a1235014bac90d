package states

import "strings"

// CompareAddresses orders instance addresses for output and for the state file: byte
// by byte, except that runs of digits compare by their numeric value, so
// `hardware.node[2]` comes before `hardware.node[10]`. Addresses whose digit runs differ
// only in leading zeros fall back to plain string order, so the order is total.
func CompareAddresses(a, b string) int {
	// Sorting a plan compares addresses that share most of their text: skip the common
	// prefix, backing up to the start of a number it ends in.
	k := 0
	for k < len(a) && k < len(b) && a[k] == b[k] {
		k++
	}
	if k == len(a) && k == len(b) {
		return 0
	}
	for k > 0 && isDigit(a[k-1]) {
		k--
	}
	return compareAddressesFrom(a, b, k)
}

// compareAddressesFrom is CompareAddresses for a and b whose first k bytes are equal
// and do not end inside a number.
func compareAddressesFrom(a, b string, k int) int {
	i, j := k, k
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			if c := compareDigits(a[si:i], b[sj:j]); c != 0 {
				return c
			}
			continue
		}
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
		i++
		j++
	}
	switch {
	case i < len(a):
		return 1
	case j < len(b):
		return -1
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// compareDigits compares two runs of digits by value.
func compareDigits(x, y string) int {
	x = strings.TrimLeft(x, "0")
	y = strings.TrimLeft(y, "0")
	if len(x) != len(y) {
		if len(x) < len(y) {
			return -1
		}
		return 1
	}
	return strings.Compare(x, y)
}
