// set-methods.mjs - the Set methods of ES2025 (union, intersection, ...)
// for Node 20, which lacks them and on which gitlab-ci-local's bundle
// stops at load. Loaded with `node --import` before the tool; each is
// added only where it is missing. Enough for set-likes that are Sets
// or have has() and keys().
const methods = {
	union(other) {
		const out = new Set(this);
		for (const x of other.keys()) out.add(x);
		return out;
	},
	intersection(other) {
		const out = new Set();
		for (const x of this) if (other.has(x)) out.add(x);
		return out;
	},
	difference(other) {
		const out = new Set();
		for (const x of this) if (!other.has(x)) out.add(x);
		return out;
	},
	symmetricDifference(other) {
		const out = new Set(this);
		for (const x of other.keys()) {
			if (this.has(x)) out.delete(x);
			else out.add(x);
		}
		return out;
	},
	isSubsetOf(other) {
		for (const x of this) if (!other.has(x)) return false;
		return true;
	},
	isSupersetOf(other) {
		for (const x of other.keys()) if (!this.has(x)) return false;
		return true;
	},
	isDisjointFrom(other) {
		for (const x of this) if (other.has(x)) return false;
		return true;
	},
};
for (const [name, fn] of Object.entries(methods)) {
	if (typeof Set.prototype[name] !== "function") {
		Object.defineProperty(Set.prototype, name, {
			value: fn, writable: true, configurable: true,
		});
	}
}
