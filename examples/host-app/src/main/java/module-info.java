/** On the module path the application reads Kiln's API and nothing else; the plugin is bound as a service. */
module dev.kiln.hostapp {
    requires dev.kiln.api;
    requires java.management;
}
