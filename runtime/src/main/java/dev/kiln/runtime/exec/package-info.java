package dev.kiln.runtime.exec;
