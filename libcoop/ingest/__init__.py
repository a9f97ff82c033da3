"""raw -> load: find the drop files, read them as untrusted input, check them against the contract,
report to coordinators, and append accepted file versions to the raw history."""
