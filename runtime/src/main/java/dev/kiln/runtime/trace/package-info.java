package dev.kiln.runtime.trace;
