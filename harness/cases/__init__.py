"""Case sources: curated YAML files and aws-c-auth style suite folders."""
