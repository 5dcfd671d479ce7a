package dev.kiln.runtime.backend;
