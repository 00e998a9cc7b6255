/** NOTIFY channel on which the projector announces committed batches; the query API's long-polls listen to it. */
export const READ_MODELS_CHANNEL = 'tally_read_models';
