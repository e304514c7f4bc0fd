package dev.activa.backend;

/** A backend's memory for one tensor's elements; views share it. */
public interface Storage {}
