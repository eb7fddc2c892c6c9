// CMAN on ADE (its paper's data set), 10-fold cross-validation: the fold comes from SINET_FOLD
// (0-9), as in sinet_ade.jsonnet; report the macro F1 as the paper does.
(import 'sinet_ade.jsonnet') + (import 'cman.libsonnet')
