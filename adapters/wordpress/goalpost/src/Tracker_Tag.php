<?php
/**
 * The one thing the plugin puts on the front end: the tracker's script tag.
 *
 * @package Goalpost
 */

namespace Goalpost;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Enqueues `<URL>/js/goalpost.js` with data-site and data-forms="html": the form plugins'
 * submissions are reported from the server (Form_Hooks), so the browser reports only plain forms.
 */
final class Tracker_Tag {

	const HANDLE = 'goalpost';

	/**
	 * Registers the hooks.
	 */
	public function register(): void {
		add_action( 'wp_enqueue_scripts', array( $this, 'enqueue' ) );
		add_filter( 'script_loader_tag', array( $this, 'tag' ), 10, 3 );
	}

	/**
	 * Whether the current request's visitor is tracked.
	 */
	public static function should_track(): bool {
		if ( ! Config::can_track() ) {
			return false;
		}
		return Config::track_admins() || ! current_user_can( 'manage_options' );
	}

	/**
	 * Enqueues the tracker in the footer-less head position (it is deferred).
	 */
	public function enqueue(): void {
		if ( ! self::should_track() ) {
			return;
		}
		// The tracker carries its own ETag; no WordPress version query on a third-party URL.
		wp_enqueue_script( self::HANDLE, Config::url() . '/js/goalpost.js', array(), null, false ); // phpcs:ignore WordPress.WP.EnqueuedResourceParameters.MissingVersion
	}

	/**
	 * Rewrites the enqueued tag to carry defer and the tracker's data attributes.
	 *
	 * @param string $tag    The tag WordPress built.
	 * @param string $handle The script handle.
	 * @param string $src    The script URL.
	 */
	public function tag( $tag, $handle, $src ) {
		if ( self::HANDLE !== $handle ) {
			return $tag;
		}
		$attributes = array(
			'data-site'  => Config::site(),
			'data-forms' => 'html',
		);
		/**
		 * Filters the tracker tag's data attributes (e.g. add `data-api`).
		 *
		 * @param array<string, string> $attributes Attribute name => value.
		 */
		$attributes = apply_filters( 'goalpost_script_attributes', $attributes );
		$html       = '';
		foreach ( (array) $attributes as $name => $value ) {
			$name = preg_replace( '/[^a-z0-9-]/', '', strtolower( (string) $name ) );
			if ( '' !== $name ) {
				$html .= ' ' . $name . '="' . esc_attr( (string) $value ) . '"';
			}
		}
		return '<script defer src="' . esc_url( $src ) . '"' . $html . '></script>' . "\n"; // phpcs:ignore WordPress.WP.EnqueuedResources.NonEnqueuedScript
	}
}
