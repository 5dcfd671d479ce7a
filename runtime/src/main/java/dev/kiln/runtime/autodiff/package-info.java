package dev.kiln.runtime.autodiff;
